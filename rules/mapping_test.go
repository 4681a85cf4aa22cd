package rules

import (
	"strings"
	"testing"
)

func TestParseMapping(t *testing.T) {
	for _, c := range []struct {
		spec    MappingSpec
		want    Mapping
		problem string
	}{
		{MappingSpec{ProductID: 812, Kind: Meeting, ID: "857 4606 5123"}, Mapping{ProductID: 812, Target: Target{Kind: Meeting, ID: 85746065123}}, ""},
		{MappingSpec{ProductID: 812, VariationID: 815, Day: 2, Slot: " evening ", Occurrences: "1764608400000, 1764004000000,1764608400000", Kind: Webinar, ID: "912-3456-7890"},
			Mapping{ProductID: 812, VariationID: 815, Day: 2, Slot: "evening", Occurrences: "1764004000000,1764608400000", Target: Target{Kind: Webinar, ID: 91234567890}}, ""},
		{MappingSpec{Kind: Meeting, ID: "1"}, Mapping{}, "product id"},
		{MappingSpec{ProductID: 1, Day: -1, Kind: Meeting, ID: "1"}, Mapping{}, "negative"},
		{MappingSpec{ProductID: 1, Kind: "room", ID: "1"}, Mapping{}, "neither meeting nor webinar"},
		{MappingSpec{ProductID: 1, Kind: Meeting, ID: "abc"}, Mapping{}, "not a Zoom meeting or webinar id"},
		{MappingSpec{ProductID: 1, Kind: Meeting, ID: "0"}, Mapping{}, "not a Zoom meeting or webinar id"},
		{MappingSpec{ProductID: 1, Kind: Meeting, ID: "1", Occurrences: "tomorrow"}, Mapping{}, "not a Zoom occurrence id"},
	} {
		got, err := ParseMapping(c.spec)
		if c.problem != "" {
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("ParseMapping(%+v) = %v, want an error saying %q", c.spec, err, c.problem)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseMapping(%+v) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
}

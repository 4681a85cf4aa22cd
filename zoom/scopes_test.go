package zoom_test

import (
	"testing"

	"github.com/woozoom/woozoom/zoom"
)

func TestMissingScopes(t *testing.T) {
	need := zoom.NeededScopes(true, false)
	for name, c := range map[string]struct {
		have []string
		want int
	}{
		"none":                                 {nil, len(need)},
		"granular all":                         {[]string{"meeting:read:meeting:admin", "meeting:write:registrant:admin", "meeting:read:list_registrants:admin", "meeting:read:registrant:admin", "meeting:update:registrant_status:admin", "meeting:read:list_past_participants:admin", "user:read:user:admin"}, 0},
		"classic":                              {[]string{"meeting:read:admin", "meeting:write:admin", "user:read:admin"}, 0},
		"classic read only":                    {[]string{"meeting:read:admin", "user:read:admin"}, 2},
		"webinar scopes do not cover meetings": {[]string{"webinar:read:admin", "webinar:write:admin", "user:read:admin"}, 6},
	} {
		if got := zoom.MissingScopes(c.have, need); len(got) != c.want {
			t.Errorf("%s: missing %v, want %d", name, got, c.want)
		}
	}
	if n := len(zoom.NeededScopes(true, true)); n != 13 {
		t.Errorf("meetings and webinars need %d scopes, want 13", n)
	}
}

func TestRecordingScope(t *testing.T) {
	for name, c := range map[string]struct {
		have []string
		want int
	}{
		"granular": {[]string{"cloud_recording:read:list_recording_files:admin"}, 0},
		"classic":  {[]string{"cloud_recording:read:admin"}, 0},
		"none":     {[]string{"meeting:read:admin"}, 1},
	} {
		if got := zoom.MissingScopes(c.have, []zoom.Scope{zoom.RecordingScope}); len(got) != c.want {
			t.Errorf("%s: missing %v, want %d", name, got, c.want)
		}
	}
}

package rules

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MappingSpec is a mapping of a product to a meeting or webinar as an admin
// writes it: config.yaml's events, map add's flags, the console's form.
type MappingSpec struct {
	ProductID   int64
	VariationID int64
	Day         int
	Slot        string
	// Occurrences are occurrence ids of a recurring meeting, comma-separated.
	Occurrences string
	Kind        TargetKind // meeting or webinar
	// ID is the Zoom id as Zoom writes it: "857 4606 5123".
	ID string
}

// ParseMapping checks a mapping as an admin wrote it and returns it: the
// one reading of a mapping, for config.yaml, map add and the console.
func ParseMapping(s MappingSpec) (Mapping, error) {
	m := Mapping{ProductID: s.ProductID, VariationID: s.VariationID, Day: s.Day, Slot: strings.TrimSpace(s.Slot)}
	switch {
	case s.ProductID <= 0:
		return m, errors.New("the product must be a WooCommerce product id")
	case s.VariationID < 0 || s.Day < 0:
		return m, errors.New("the variation and the day must not be negative")
	case s.Kind != Meeting && s.Kind != Webinar:
		return m, fmt.Errorf("%q is neither meeting nor webinar", s.Kind)
	}
	var err error
	if m.Occurrences, err = NormalizeOccurrences(s.Occurrences); err != nil {
		return m, err
	}
	m.Target.Kind = s.Kind
	m.Target.ID, err = ParseZoomID(s.ID)
	return m, err
}

// ParseZoomID reads a meeting or webinar id as Zoom writes it (spaces or
// dashes allowed, as in "857 4606 5123").
func ParseZoomID(s string) (int64, error) {
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == ' ' || c == '-':
		default:
			return 0, fmt.Errorf("%q is not a Zoom meeting or webinar id", s)
		}
	}
	id, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a Zoom meeting or webinar id", s)
	}
	return id, nil
}

// NormalizeOccurrences checks a comma-separated list of Zoom occurrence ids
// (epoch milliseconds) and writes it sorted without spaces.
func NormalizeOccurrences(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	var ids []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if _, err := strconv.ParseUint(f, 10, 64); err != nil || f == "" {
			return "", fmt.Errorf("occurrences %q: %q is not a Zoom occurrence id (digits, as in 1648194360000)", s, f)
		}
		ids = append(ids, f)
	}
	slices.Sort(ids)
	return strings.Join(slices.Compact(ids), ","), nil
}

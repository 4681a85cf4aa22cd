package zoom

import (
	"slices"
	"strings"
)

// Scope is a granular scope of the Server-to-Server app and what woozoom
// needs it for.
type Scope struct {
	Name string
	For  string
}

// NeededScopes are the scopes woozoom uses: registrants of meetings, of
// webinars, and reading users (to check that hosts are licensed).
func NeededScopes(meetings, webinars bool) []Scope {
	out := perKind(meetings, webinars, func(n string) []Scope {
		return []Scope{
			{n + ":read:" + n + ":admin", "read the " + n + "s' details and join links"},
			{n + ":write:registrant:admin", "register attendees on " + n + "s"},
			{n + ":read:list_registrants:admin", "look up registrants whose answer was lost"},
			{n + ":read:registrant:admin", "read an approved attendee's join link"},
			{n + ":update:registrant_status:admin", "cancel and approve registrants"},
			{n + ":read:list_past_participants:admin", "read who attended, when the " + n + " ends"},
		}
	})
	return append(out, Scope{"user:read:user:admin", "check that each host is a Licensed user"})
}

// RecordingScope reads a meeting's cloud recording: the replay woozoom
// gives ticket holders (recordings: share or no_shows). A classic
// cloud_recording:read:admin grants it too.
var RecordingScope = Scope{"cloud_recording:read:list_recording_files:admin", "read the recordings ticket holders get (recordings:)"}

// MakerScopes are the scopes of making meetings or webinars from products:
// create, update, delete, and list a host's (to find one whose create
// answer was lost).
func MakerScopes(meetings, webinars bool) []Scope {
	return perKind(meetings, webinars, func(n string) []Scope {
		return []Scope{
			{n + ":write:" + n + ":admin", "make " + n + "s from products"},
			{n + ":update:" + n + ":admin", "rename and move them with their product"},
			{n + ":delete:" + n + ":admin", "delete them when their product is trashed"},
			{n + ":read:list_" + n + "s:admin", "find one whose create went unanswered"},
		}
	})
}

// perKind joins the scopes of meetings and of webinars, as asked.
func perKind(meetings, webinars bool, scopes func(noun string) []Scope) []Scope {
	var out []Scope
	if meetings {
		out = append(out, scopes("meeting")...)
	}
	if webinars {
		out = append(out, scopes("webinar")...)
	}
	return out
}

// MissingScopes returns the scopes of need that have does not grant. A
// classic scope ("meeting:write:admin") grants the granular ones of its
// resource: read for reading, write for the rest.
func MissingScopes(have []string, need []Scope) []Scope {
	var out []Scope
	for _, s := range need {
		res, rest, _ := strings.Cut(s.Name, ":")
		verb, _, _ := strings.Cut(rest, ":")
		classic := res + ":write:admin"
		if verb == "read" {
			classic = res + ":read:admin"
		}
		if !slices.Contains(have, s.Name) && !slices.Contains(have, classic) {
			out = append(out, s)
		}
	}
	return out
}

// Package access owns what attendees receive about an event they may join:
// the order note and the order meta text, rendered from text/template
// files the shop may override (shop-wide and per event), and the calendar
// file of each registration.
package access

import (
	"fmt"
	"html"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// Entry is one attendee's access to one event.
type Entry struct {
	Target    rules.Target // Kind is meeting, webinar or link
	FirstName string
	LastName  string
	Email     string // as the attendee typed it
	Topic     string
	Start     time.Time // zero: no fixed time
	Timezone  string    // IANA zone of the event; empty: UTC
	Duration  int       // minutes
	JoinURL   string
	Passcode  string
	// CalendarURL is the attendee's calendar file, if served.
	CalendarURL string
}

// Name is the attendee's full name.
func (e Entry) Name() string { return strings.TrimSpace(e.FirstName + " " + e.LastName) }

// KindName says meeting, webinar or event.
func (e Entry) KindName() string {
	if e.Target.Kind == rules.Meeting || e.Target.Kind == rules.Webinar {
		return string(e.Target.Kind)
	}
	return "event"
}

// Zoom reports whether the event is on Zoom.
func (e Entry) Zoom() bool { return e.Target.Kind == rules.Meeting || e.Target.Kind == rules.Webinar }

// StartLocal is the start in the event's time zone ("" without a start).
func (e Entry) StartLocal() string {
	if e.Start.IsZero() {
		return ""
	}
	t := e.Start
	if loc, err := time.LoadLocation(e.Timezone); err == nil && e.Timezone != "" {
		t = t.In(loc)
	}
	return t.Format("Mon 2 Jan 2006 15:04 MST")
}

// StartUTC is the start in UTC ("" without a start).
func (e Entry) StartUTC() string {
	if e.Start.IsZero() {
		return ""
	}
	return e.Start.UTC().Format("Mon 2 Jan 2006 15:04 UTC")
}

// DurationText says the duration in words ("" if unknown).
func (e Entry) DurationText() string {
	switch {
	case e.Duration <= 0:
		return ""
	case e.Duration%60 == 0 && e.Duration >= 60:
		if e.Duration == 60 {
			return "1 hour"
		}
		return strconv.Itoa(e.Duration/60) + " hours"
	}
	return strconv.Itoa(e.Duration) + " minutes"
}

// MeetingID is the Zoom id grouped as Zoom prints it ("" off Zoom).
func (e Entry) MeetingID() string {
	if !e.Zoom() || e.Target.ID == 0 {
		return ""
	}
	return FormatID(strconv.FormatInt(e.Target.ID, 10))
}

// JoinLinkHTML is the join link as an HTML anchor, escaped.
func (e Entry) JoinLinkHTML() string {
	if e.JoinURL == "" {
		return ""
	}
	text := e.Topic
	if text == "" {
		text = e.JoinURL
	}
	return `<a href="` + html.EscapeString(e.JoinURL) + `">` + html.EscapeString(text) + `</a>`
}

// FormatID writes a meeting id as Zoom shows it: 857 4606 5123.
func FormatID(id string) string {
	switch len(id) {
	case 11:
		return id[:3] + " " + id[3:7] + " " + id[7:]
	case 10, 9:
		return id[:3] + " " + id[3:6] + " " + id[6:]
	}
	return id
}

// Note is what a note template renders.
type Note struct {
	OrderID int64
	Status  string // the order's status
	// Reason says why access was withdrawn, in words ("because the order is
	// cancelled").
	Reason  string
	Entries []Entry // every attendee's access (withdrawn: what was withdrawn)
}

// AllZoom reports whether every entry is a Zoom meeting or webinar.
func (n Note) AllZoom() bool {
	for _, e := range n.Entries {
		if !e.Zoom() {
			return false
		}
	}
	return true
}

// Source is a template's text and the name errors give it (its file).
type Source struct {
	Name string
	Text string
}

// Config holds the templates; an empty Text takes the default.
type Config struct {
	Note      Source // the access note: every attendee's links
	Withdrawn Source // the note when access is withdrawn
	Meta      Source // the text woozoom writes to the order meta MetaTextKey
	Entry     Source // one attendee's access to one event, used by the others
	// Events are per-event entry templates, by meeting, webinar or link.
	Events map[rules.Target]Source
}

const (
	// DefaultEntry is one line of access.
	DefaultEntry = `{{.Topic}}{{with .StartLocal}}, {{.}}{{end}}, for {{.Name}}: {{.JoinURL}}` +
		`{{if .MeetingID}} ({{.KindName}} ID {{.MeetingID}}{{with .Passcode}}, passcode {{.}}{{end}}){{else}}{{with .Passcode}} (passcode {{.}}){{end}}{{end}}` +
		`{{with .CalendarURL}}; add to your calendar: {{.}}{{end}}`
	// DefaultNote lists every attendee's access.
	DefaultNote = `{{if .AllZoom}}Your Zoom access:{{else}}Your access:{{end}}{{range .Entries}}
- {{entry .}}{{end}}`
	// DefaultWithdrawn tells the customer which access ended and why.
	DefaultWithdrawn = `Your access has been withdrawn {{.Reason}}. These links no longer work:{{range .Entries}}
- {{.Topic}}{{with .StartLocal}}, {{.}}{{end}}, for {{.Name}}{{end}}`
	// DefaultMeta is the text for the shop's own emails and pages.
	DefaultMeta = `{{range $i, $e := .Entries}}{{if $i}}
{{end}}{{entry $e}}{{end}}`
)

// Templates renders notes and meta text.
type Templates struct {
	note, withdrawn, meta, entry *template.Template
	events                       map[rules.Target]*template.Template
}

// Parse parses every template; an error names the file, line and column.
func Parse(cfg Config) (*Templates, error) {
	t := &Templates{events: map[rules.Target]*template.Template{}}
	funcs := template.FuncMap{"entry": t.renderEntry}
	var err error
	parse := func(src Source, name, def string) *template.Template {
		if err != nil {
			return nil
		}
		if src.Name == "" {
			src.Name = name
		}
		if strings.TrimSpace(src.Text) == "" {
			src.Text = def
		}
		var tmpl *template.Template
		tmpl, err = template.New(src.Name).Funcs(funcs).Option("missingkey=error").Parse(src.Text)
		if err != nil {
			err = positioned(src, funcs, err)
		}
		return tmpl
	}
	t.entry = parse(cfg.Entry, "entry template", DefaultEntry)
	t.note = parse(cfg.Note, "note template", DefaultNote)
	t.withdrawn = parse(cfg.Withdrawn, "withdrawn template", DefaultWithdrawn)
	t.meta = parse(cfg.Meta, "meta template", DefaultMeta)
	for target, src := range cfg.Events {
		t.events[target] = parse(src, "note template of "+target.String(), DefaultEntry)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

var lineRe = regexp.MustCompile(`^template: [^\n]*?:(\d+): (.*)$`)

// positioned adds the column to a parse error, which text/template gives
// with its line only: the column is that of the first action on the line
// that fails alone with the same message.
func positioned(src Source, funcs template.FuncMap, err error) error {
	m := lineRe.FindStringSubmatch(err.Error())
	if m == nil {
		return fmt.Errorf("%s: %w", src.Name, err)
	}
	line, _ := strconv.Atoi(m[1])
	msg := m[2]
	lines := strings.Split(src.Text, "\n")
	col := 1
	if line >= 1 && line <= len(lines) {
		text := lines[line-1]
		for off := 0; ; {
			i := strings.Index(text[off:], "{{")
			if i < 0 {
				break
			}
			start := off + i
			end := strings.Index(text[start:], "}}")
			action := text[start:]
			if end >= 0 {
				action = text[start : start+end+2]
			}
			_, aerr := template.New("x").Funcs(funcs).Parse(action)
			if am := lineRe.FindStringSubmatch(fmt.Sprint(aerr)); aerr != nil && am != nil && am[2] == msg {
				col = start + 1
				break
			}
			off = start + 2
		}
	}
	return fmt.Errorf("%s:%d:%d: %s", src.Name, line, col, msg)
}

func (t *Templates) renderEntry(e Entry) (string, error) {
	tmpl := t.entry
	if ev, ok := t.events[e.Target]; ok {
		tmpl = ev
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, e); err != nil {
		return "", err
	}
	return b.String(), nil
}

func render(tmpl *template.Template, n Note) (string, error) {
	if len(n.Entries) == 0 {
		return "", nil
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, n); err != nil {
		return "", fmt.Errorf("render %s: %w", tmpl.Name(), err)
	}
	return strings.TrimSpace(b.String()), nil
}

// Note renders the access note ("" for no entries).
func (t *Templates) Note(n Note) (string, error) { return render(t.note, n) }

// Withdrawn renders the note that tells the customer access ended.
func (t *Templates) Withdrawn(n Note) (string, error) { return render(t.withdrawn, n) }

// Meta renders the text written to the order meta.
func (t *Templates) Meta(n Note) (string, error) { return render(t.meta, n) }

// Sample is an order of two attendees on two kinds of events, for checking
// templates before real orders meet them.
func Sample() Note {
	start := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	return Note{OrderID: 4521, Status: "completed", Entries: []Entry{
		{Target: rules.Target{Kind: rules.Meeting, ID: 85746065123}, FirstName: "Rita", LastName: "Doro", Email: "Rita.Doro@example.org",
			Topic: "Online guided tour", Start: start, Timezone: "Europe/Berlin", Duration: 60,
			JoinURL: "https://zoom.us/w/85746065123?tk=sample", Passcode: "Tour42", CalendarURL: "https://shop.example/woozoom/calendar/sample.ics"},
		{Target: rules.Target{Kind: rules.Webinar, ID: 91234567890}, FirstName: "Ana", Email: "ana@example.org",
			Topic: "Restoring paintings", Duration: 90, JoinURL: "https://zoom.us/w/91234567890?tk=sample"},
	}}
}

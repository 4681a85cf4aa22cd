// Package access owns what attendees receive about an event they may join:
// the order note and the order meta text, rendered from templates the shop
// may override (shop-wide and per event), and the calendar file of each
// registration. WooCommerce e-mails a customer note as HTML, so the notes
// are html/template: every value from an order is escaped, in the shop's
// own templates too. The meta text stays text/template.
package access

import (
	"fmt"
	"html"
	htmltemplate "html/template"
	"io"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

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
	// ReplayURL and ReplayPasscode are the event's cloud recording, when
	// the attendee is to have it (recordings: in config.yaml): the latest,
	// when a series has several.
	ReplayURL      string
	ReplayPasscode string
	// Replays are all the recordings the attendee is to have, by start:
	// one per occurrence of a series held and recorded.
	Replays []Replay
}

// Replay is the recording of one instance of the event.
type Replay struct {
	Start    time.Time // when the instance began; zero if unknown
	URL      string
	Passcode string
	Timezone string // the event's IANA zone; empty: UTC
}

// Day is the day the recorded instance began, in the event's time zone.
func (r Replay) Day() string { return inZone(r.Start, r.Timezone, "Mon 2 Jan 2006") }

// inZone formats t in an IANA zone (UTC when empty or unknown); "" for no
// time.
func inZone(t time.Time, zone, layout string) string {
	if t.IsZero() {
		return ""
	}
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" {
		t = t.In(loc)
	}
	return t.Format(layout)
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
func (e Entry) StartLocal() string { return inZone(e.Start, e.Timezone, "Mon 2 Jan 2006 15:04 MST") }

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

// JoinLinkHTML is the join link as an HTML anchor, its values escaped.
func (e Entry) JoinLinkHTML() htmltemplate.HTML {
	if e.JoinURL == "" {
		return ""
	}
	text := e.Topic
	if text == "" {
		text = e.JoinURL
	}
	return htmltemplate.HTML(`<a href="` + html.EscapeString(e.JoinURL) + `">` + html.EscapeString(text) + `</a>`) // #nosec G203 -- both values escaped
}

// clean strips control characters (CR, LF, tab and the rest, and the
// Unicode line separators) from the one-line values, which come from
// orders and from Zoom: a name cannot start a new line in a note, a meta
// text or a calendar file.
func (e Entry) clean() Entry {
	for _, f := range []*string{&e.FirstName, &e.LastName, &e.Email, &e.Topic, &e.Timezone, &e.JoinURL, &e.Passcode, &e.CalendarURL} {
		*f = OneLine(*f)
	}
	return e
}

// OneLine drops control characters and line separators from s.
func OneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return -1
		}
		return r
	}, s)
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
	// cancelled"); empty when woozoom does not know.
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

// Because says in words why access ended, for the withdrawn note: what
// happened, recorded when it happened ("" when woozoom does not know).
func Because(why rules.EndReason, by string) string {
	switch why {
	case rules.EndedByWithdrawal:
		return "because the shop withdrew the event"
	case rules.EndedInZoom:
		return "by the organiser in Zoom"
	case rules.EndedByRefund:
		return "because your ticket was refunded"
	case rules.EndedByChange:
		return "because your order was changed"
	case rules.EndedByOrderStatus:
		switch by {
		case rules.StatusTrash:
			return "because the order was deleted"
		case rules.StatusRefunded:
			return "because the order was refunded"
		case "":
			return "because of the order's status"
		}
		return "because the order is " + OneLine(by)
	}
	return ""
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
	// Thanks, if set, is the customer note after an event, per attendee
	// (attended or not): a thank-you, a certificate link. Empty: none.
	Thanks Source
}

const (
	// DefaultEntry is one line of access.
	DefaultEntry = `{{.Topic}}{{with .StartLocal}}, {{.}}{{end}}, for {{.Name}}: {{.JoinURL}}` +
		`{{if .MeetingID}} ({{.KindName}} ID {{.MeetingID}}{{with .Passcode}}, passcode {{.}}{{end}}){{else}}{{with .Passcode}} (passcode {{.}}){{end}}{{end}}` +
		`{{with .CalendarURL}}; add to your calendar: {{.}}{{end}}` +
		`{{if gt (len .Replays) 1}}; the recordings:{{range $i, $r := .Replays}}{{if $i}},{{end}} {{with $r.Day}}{{.}}: {{end}}{{$r.URL}}{{with $r.Passcode}} (passcode {{.}}){{end}}{{end}}` +
		`{{else}}{{with .ReplayURL}}; the recording: {{.}}{{end}}{{if .ReplayURL}}{{with .ReplayPasscode}} (passcode {{.}}){{end}}{{end}}{{end}}`
	// DefaultNote lists every attendee's access.
	DefaultNote = `{{if .AllZoom}}Your Zoom access:{{else}}Your access:{{end}}{{range .Entries}}
- {{entry .}}{{end}}`
	// DefaultWithdrawn tells the customer which access ended and why.
	DefaultWithdrawn = `Your access has been withdrawn{{with .Reason}} {{.}}{{end}}. These links no longer work:{{range .Entries}}
- {{.Topic}}{{with .StartLocal}}, {{.}}{{end}}, for {{.Name}}{{end}}`
	// DefaultMeta is the text for the shop's own emails and pages.
	DefaultMeta = `{{range $i, $e := .Entries}}{{if $i}}
{{end}}{{entry $e}}{{end}}`
)

// Templates renders notes and meta text. The entry template is parsed
// twice: as HTML for the notes and as text for the meta.
type Templates struct {
	note, withdrawn *htmltemplate.Template
	meta            *template.Template
	entryHTML       *htmltemplate.Template
	entryText       *template.Template
	eventsHTML      map[rules.Target]*htmltemplate.Template
	eventsText      map[rules.Target]*template.Template
	thanks          *htmltemplate.Template // nil: no note after the event
}

// Parse parses every template and renders it once with Sample, so that a
// template HTML cannot escape (a value inside a <script>, say) is refused
// at start too; an error names the file, line and column.
func Parse(cfg Config) (*Templates, error) {
	t := &Templates{eventsHTML: map[rules.Target]*htmltemplate.Template{}, eventsText: map[rules.Target]*template.Template{}}
	p := parser{htmlFuncs: htmltemplate.FuncMap{"entry": t.entryAsHTML}, textFuncs: template.FuncMap{"entry": t.entryAsText}}
	t.entryHTML, t.entryText = p.both(cfg.Entry, "entry template", DefaultEntry)
	t.note = p.html(cfg.Note, "note template", DefaultNote)
	t.withdrawn = p.html(cfg.Withdrawn, "withdrawn template", DefaultWithdrawn)
	t.meta = p.text(cfg.Meta, "meta template", DefaultMeta)
	for target, src := range cfg.Events {
		t.eventsHTML[target], t.eventsText[target] = p.both(src, "note template of "+target.String(), DefaultEntry)
	}
	if strings.TrimSpace(cfg.Thanks.Text) != "" {
		t.thanks = p.html(cfg.Thanks, "thanks template", "")
	}
	if p.err != nil {
		return nil, p.err
	}
	if _, _, err := t.Thanks(SampleAttended()); err != nil {
		return nil, err
	}
	sample := Sample()
	for _, render := range []func(Note) (string, error){t.Note, t.Withdrawn, t.Meta} {
		if _, err := render(sample); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// parser parses templates until the first error, which it keeps.
type parser struct {
	htmlFuncs htmltemplate.FuncMap
	textFuncs template.FuncMap
	err       error
}

func (p *parser) source(src Source, name, def string) Source {
	if src.Name == "" {
		src.Name = name
	}
	if strings.TrimSpace(src.Text) == "" {
		src.Text = def
	}
	return src
}

func (p *parser) html(src Source, name, def string) *htmltemplate.Template {
	if p.err != nil {
		return nil
	}
	src = p.source(src, name, def)
	tmpl, err := htmltemplate.New(src.Name).Funcs(p.htmlFuncs).Option("missingkey=error").Parse(src.Text)
	if err != nil {
		p.err = positioned(src, p.textFuncs, err)
	}
	return tmpl
}

func (p *parser) text(src Source, name, def string) *template.Template {
	if p.err != nil {
		return nil
	}
	src = p.source(src, name, def)
	tmpl, err := template.New(src.Name).Funcs(p.textFuncs).Option("missingkey=error").Parse(src.Text)
	if err != nil {
		p.err = positioned(src, p.textFuncs, err)
	}
	return tmpl
}

func (p *parser) both(src Source, name, def string) (*htmltemplate.Template, *template.Template) {
	return p.html(src, name, def), p.text(src, name, def)
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

func (t *Templates) entryAsHTML(e Entry) (htmltemplate.HTML, error) {
	tmpl := t.entryHTML
	if ev, ok := t.eventsHTML[e.Target]; ok {
		tmpl = ev
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, e); err != nil {
		return "", err
	}
	return htmltemplate.HTML(b.String()), nil // #nosec G203 -- rendered by html/template
}

func (t *Templates) entryAsText(e Entry) (string, error) {
	tmpl := t.entryText
	if ev, ok := t.eventsText[e.Target]; ok {
		tmpl = ev
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, e); err != nil {
		return "", err
	}
	return b.String(), nil
}

// executor is a parsed template of either kind.
type executor interface {
	Execute(w io.Writer, data any) error
	Name() string
}

func render(tmpl executor, n Note) (string, error) {
	if len(n.Entries) == 0 {
		return "", nil
	}
	n = n.clean()
	var b strings.Builder
	if err := tmpl.Execute(&b, n); err != nil {
		return "", fmt.Errorf("render %s: %w", tmpl.Name(), err)
	}
	return strings.TrimSpace(b.String()), nil
}

func (n Note) clean() Note {
	entries := make([]Entry, len(n.Entries))
	for i, e := range n.Entries {
		entries[i] = e.clean()
	}
	n.Entries = entries
	n.Status = OneLine(n.Status)
	return n
}

// Note renders the access note, HTML ("" for no entries).
func (t *Templates) Note(n Note) (string, error) { return render(t.note, n) }

// Withdrawn renders the note that tells the customer access ended, HTML.
func (t *Templates) Withdrawn(n Note) (string, error) { return render(t.withdrawn, n) }

// Meta renders the text written to the order meta: plain text.
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

// Attended is what the thanks template gets of one attendee of one ended
// event.
type Attended struct {
	OrderID             int64
	Email               string
	FirstName, LastName string
	Topic               string // the meeting's topic, else "meeting 123"
	Attended            bool
	Minutes             int
}

// Name is the attendee's full name.
func (a Attended) Name() string { return strings.TrimSpace(a.FirstName + " " + a.LastName) }

// SampleAttended is an attendee every thanks template must render.
func SampleAttended() Attended {
	return Attended{OrderID: 4521, Email: "rita.doro@example.org", FirstName: "Rita", LastName: "Doro", Topic: "Online guided tour", Attended: true, Minutes: 55}
}

// Thanking reports whether a thanks template is set.
func (t *Templates) Thanking() bool { return t.thanks != nil }

// Thanks renders the customer note after an event; ok is false when no
// thanks template is set.
func (t *Templates) Thanks(a Attended) (note string, ok bool, err error) {
	if t.thanks == nil {
		return "", false, nil
	}
	a.Email, a.FirstName, a.LastName, a.Topic = OneLine(a.Email), OneLine(a.FirstName), OneLine(a.LastName), OneLine(a.Topic)
	var b strings.Builder
	if err := t.thanks.Execute(&b, a); err != nil {
		return "", false, fmt.Errorf("render the thanks note: %w", err)
	}
	return strings.TrimSpace(b.String()), true, nil
}

package meetings

import (
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/woozoom/woozoom/rules"
)

// Default topics of the meetings woozoom makes.
const (
	DefaultTopic    = "{{.Name}}"
	DefaultDayTopic = "{{.Name}} (day {{.Day}} of {{.Days}})"
)

// topicLimit is the longest topic Zoom takes; a longer product name is
// cut, not refused.
const topicLimit = 200

// TopicData is what a topic template sees.
type TopicData struct {
	ID        int64
	Name      string
	Day, Days int // 0, 0 for the event's one meeting
}

// Topic parses a topic template (text/template over TopicData; "" for the
// defaults, one for a one-day event and one for each day of a longer one)
// and returns what names a product's meeting (day 0: the event's one
// meeting). The template is tried once with a sample, so a bad field is
// refused now rather than when a product meets it.
func Topic(text string) (func(p rules.Product, day, days int) (string, error), error) {
	one, perDay := DefaultTopic, DefaultDayTopic
	if t := strings.TrimSpace(text); t != "" {
		one, perDay = t, t
	}
	var errs []error
	parse := func(text string) *template.Template {
		t, err := template.New("topic").Option("missingkey=error").Parse(text)
		if err != nil {
			errs = append(errs, fmt.Errorf("topic %q: %w", text, err))
		}
		return t
	}
	oneT, dayT := parse(one), parse(perDay)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	topic := func(p rules.Product, day, days int) (string, error) {
		t := oneT
		if day > 0 {
			t = dayT
		}
		var b strings.Builder
		if err := t.Execute(&b, TopicData{ID: p.ID, Name: p.Name, Day: day, Days: days}); err != nil {
			return "", err
		}
		s := strings.TrimSpace(b.String())
		switch {
		case s == "":
			return "", fmt.Errorf("the topic of product %d is empty", p.ID)
		case len(s) > topicLimit:
			s = s[:topicLimit]
		}
		return s, nil
	}
	if _, err := topic(rules.Product{ID: 1, Name: "Sample"}, 1, 2); err != nil {
		return nil, fmt.Errorf("topic: %w", err)
	}
	return topic, nil
}

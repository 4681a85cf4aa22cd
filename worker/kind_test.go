package worker

import "testing"

func TestKindOf(t *testing.T) {
	for topic, want := range map[string]Kind{
		"order.updated":                       OrderJob,
		"product.deleted":                     ProductJob,
		"action.woocommerce_order_status":     ActionJob,
		"zoom:meeting.registration_cancelled": RegistrantEvent,
		"zoom:webinar.registration_denied":    RegistrantEvent,
		"zoom:meeting.updated":                MeetingEvent,
		"zoom:webinar.deleted":                MeetingEvent,
		"zoom:meeting.ended":                  AttendanceEvent,
		"zoom:webinar.ended":                  AttendanceEvent,
		"zoom:recording.completed":            RecordingEvent,
		"zoom:recording.trashed":              RecordingEvent,
		"coupon.created":                      "",
	} {
		if got := KindOf(topic); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", topic, got, want)
		}
	}
}

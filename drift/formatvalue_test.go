package drift

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestFormatValueCutsBetweenCharacters checks that a long value is cut on a
// character boundary, whatever byte the limit falls on.
func TestFormatValueCutsBetweenCharacters(t *testing.T) {
	for pad := range 4 {
		v := strings.Repeat("a", pad) + strings.Repeat("€", 100) // 3 bytes each
		got := FormatValue(v)
		if !utf8.ValidString(got) {
			t.Fatalf("pad %d: %q is not valid UTF-8", pad, got)
		}
		if !strings.HasSuffix(got, "…") || len(got) > maxValueLen+len("…") {
			t.Errorf("pad %d: %d bytes %q, want at most %d bytes ending in …", pad, len(got), got, maxValueLen)
		}
		if len(got) < maxValueLen-3 {
			t.Errorf("pad %d: cut to %d bytes, more than one character short of %d", pad, len(got)-len("…"), maxValueLen)
		}
	}
	if got := FormatValue("short"); got != `"short"` {
		t.Errorf("short value = %s", got)
	}
}

package benchcmp

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunAlternatesAndMeasures(t *testing.T) {
	cmds := []Command{
		{Name: "fast", Args: []string{"true"}},
		{Name: "slow", Args: []string{"sleep", "0.05"}},
	}
	stats, err := Run(context.Background(), cmds, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stats {
		if len(s.Samples) != 3 {
			t.Fatalf("%s: %d samples, want 3", s.Command.Name, len(s.Samples))
		}
		if s.PeakRSS() <= 0 {
			t.Errorf("%s: no RSS measured", s.Command.Name)
		}
	}
	if stats[1].Median() < 50*time.Millisecond {
		t.Errorf("sleep 0.05 measured %v", stats[1].Median())
	}
	var b strings.Builder
	Markdown(&b, "t", stats)
	if !strings.Contains(b.String(), "| slow | 3 |") || !strings.Contains(b.String(), "sleep 0.05") {
		t.Errorf("markdown:\n%s", b.String())
	}
}

func TestRunRejectsFailingCommand(t *testing.T) {
	_, err := Run(context.Background(), []Command{{Name: "f", Args: []string{"false"}}}, 0, 1)
	if err == nil || !strings.Contains(err.Error(), "exit 1") {
		t.Fatalf("err = %v", err)
	}
	_, err = Run(context.Background(), []Command{{Name: "f", Args: []string{"false"}, OK: []int{1}}}, 0, 1)
	if err != nil {
		t.Fatalf("accepted exit code refused: %v", err)
	}
}

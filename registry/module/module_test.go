package module

import "testing"

func TestValidVersion(t *testing.T) {
	for v, want := range map[string]bool{
		"1.0.0": true, "1.0.0-rc.1": true, "1.0.0+build-1": true, "1.0.0-0a": true, "1.0.0+001": true,
		"1.0.0-01": false, "1.0.0-rc.01": false, "01.0.0": false, "v1.0.0": false, "1.0": false, "1": false,
		"1.0.0-": false, "1.0.0+": false, "": false,
		// tofu's parser (hashicorp/go-version) cannot read numbers past int64:
		// such a version would be unordered, and 99999999999999999999.0.0+a and
		// +b would not be one version (issue 17, finding 12).
		"9223372036854775807.0.0": true, "9223372036854775808.0.0": false,
		"1.99999999999999999999.0": false, "1.0.99999999999999999999+a": false,
	} {
		if got := ValidVersion(v); got != want {
			t.Errorf("ValidVersion(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestLatest(t *testing.T) {
	for _, tc := range []struct {
		vs   []string
		want int
	}{
		{nil, -1},
		{[]string{"1.0.0", "2.0.0+build-1"}, 1},
		{[]string{"2.0.0+build-1", "1.0.0"}, 0},
		{[]string{"1.0.0", "3.0.0-rc.1"}, 0},
		{[]string{"1.0.0-rc.1", "1.0.0-rc.2"}, 1},
		{[]string{"1.10.0", "1.9.0"}, 0},
	} {
		if got := Latest(tc.vs); got != tc.want {
			t.Errorf("Latest(%q) = %d, want %d", tc.vs, got, tc.want)
		}
	}
	if !Same("1.0.0", "1.0.0+b") || Same("1.0.0", "1.0.0-b") || IsPrerelease("2.0.0+build-1") || !IsPrerelease("2.0.0-rc.1+x") {
		t.Error("Same/IsPrerelease disagree with semantic versioning")
	}
}

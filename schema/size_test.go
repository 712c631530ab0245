package schema

import "testing"

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"32MiB": 32 << 20, "256KiB": 256 << 10, "1GiB": 1 << 30, "1048576": 1 << 20, "64k": 64 << 10,
		"1.5MiB": 3 << 19, "2MB": 2000000, "10 kib": 10 << 10, "7b": 7, "1TiB": 1 << 40,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MiB", "-1", "1.2.3", "32 parsecs", "1e9", "99999999999TiB"} {
		if n, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, n)
		}
	}
	for n, want := range map[int64]string{32 << 20: "32MiB", 64 << 10: "64KiB", 1 << 30: "1GiB", 1000: "1000", 3 << 19: "1536KiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

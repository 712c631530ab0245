package plan

import (
	"strings"
	"testing"
)

// Reading /dev/zero as a plan file ran out of memory.
func TestReadFileRefusesDevices(t *testing.T) {
	_, err := ReadFile("/dev/zero")
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadFile(/dev/zero) = %v", err)
	}
}

package ssh

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The rotator looks at a quiet log less and less often (1, 2, 4, 8 s
// apart), and at a growing one often enough to rotate it near its cap;
// it ends with the process it watches.
func TestRotatorBacksOffWhileQuiet(t *testing.T) {
	t.Parallel()
	realWC, err := exec.LookPath("wc")
	if err != nil {
		t.Skip("no wc")
	}
	dir := t.TempDir()
	looks := filepath.Join(dir, "looks")
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	// wc on PATH counts the rotator's looks.
	os.WriteFile(filepath.Join(bin, "wc"), []byte(fmt.Sprintf("#!/bin/sh\necho >> %q\nexec %q \"$@\"\n", looks, realWC)), 0o755)
	log := filepath.Join(dir, fileLog)
	os.WriteFile(log, []byte("quiet\n"), 0o600)

	watched := exec.Command("sleep", "600")
	if err := watched.Start(); err != nil {
		t.Fatal(err)
	}
	defer watched.Process.Kill()
	rot := exec.Command("sh", "-c", shAlive+shRotate(64<<10)+`hactl_rotate "$1"`, "sh", fmt.Sprint(watched.Process.Pid))
	rot.Dir = dir
	rot.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	if err := rot.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rot.Wait() }()
	count := func() int {
		b, _ := os.ReadFile(looks)
		return strings.Count(string(b), "\n")
	}

	// Quiet for 12 s: looks at 1, 3, 7 (and 15) s; it looked every second
	// before. (A loaded machine only makes fewer.)
	time.Sleep(12 * time.Second)
	if n := count(); n < 1 || n > 4 {
		t.Errorf("%d looks at a quiet log in 12 s, want 1 to 4", n)
	}

	// Past its cap: rotated at the next look, at most 8 s away.
	os.WriteFile(log, []byte(strings.Repeat("x", 100<<10)+"\n"), 0o600)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if fi, err := os.Stat(log + ".1"); err == nil && fi.Size() > 64<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("not rotated within 60 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if b, _ := os.ReadFile(log); !strings.Contains(string(b), "log rotated at") {
		t.Errorf("log after rotation: %q", b)
	}

	// Growing at 20 KiB a second, 40 KiB from its cap: it looks within
	// a second or two, and rotates close to the cap.
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.Remove(log + ".1")
	line := strings.Repeat("y", 1023) + "\n"
	for i := 0; i < 600; i++ {
		if fi, err := os.Stat(log + ".1"); err == nil {
			if fi.Size() > 64<<10+100<<10 {
				t.Errorf("rotated at %d bytes: cap 64 KiB", fi.Size())
			}
			break
		}
		for j := 0; j < 2; j++ {
			f.WriteString(line)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(log + ".1"); err != nil {
		t.Error("a growing log was not rotated")
	}

	watched.Process.Kill()
	watched.Wait()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		rot.Process.Kill()
		t.Error("the rotator outlived its process by 30 s")
	}
}

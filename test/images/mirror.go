package images

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MirrorEnv overrides the Debian mirror read from the apt sources.
const MirrorEnv = "HACTL_E2E_MIRROR"

// Mirror returns the Debian archive URI this machine's apt uses for suite:
// the first deb822 stanza in /etc/apt/sources.list.d/*.sources, or the first
// one-line entry in /etc/apt/sources.list(.d/*.list), whose suites include it.
func Mirror(suite string) (string, error) {
	if m := os.Getenv(MirrorEnv); m != "" {
		return m, nil
	}
	return mirrorFrom("/etc/apt", suite)
}

func mirrorFrom(aptDir, suite string) (string, error) {
	sources, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", "*.sources"))
	sort.Strings(sources)
	for _, f := range sources {
		if uri := mirrorDeb822(f, suite); uri != "" {
			return uri, nil
		}
	}
	lists, _ := filepath.Glob(filepath.Join(aptDir, "sources.list.d", "*.list"))
	sort.Strings(lists)
	for _, f := range append([]string{filepath.Join(aptDir, "sources.list")}, lists...) {
		if uri := mirrorOneLine(f, suite); uri != "" {
			return uri, nil
		}
	}
	return "", fmt.Errorf("no apt source for Debian %q found in %s/sources.list or %s/sources.list.d (set %s to a mirror URI)", suite, aptDir, aptDir, MirrorEnv)
}

func mirrorDeb822(path, suite string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, stanza := range strings.Split(string(data), "\n\n") {
		fields := map[string]string{}
		for _, line := range strings.Split(stanza, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.HasPrefix(line, " ") {
				continue
			}
			fields[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
		if strings.EqualFold(fields["enabled"], "no") || !hasWord(fields["types"], "deb") ||
			!hasWord(fields["suites"], suite) || !hasWord(fields["components"], "main") {
			continue
		}
		if uris := strings.Fields(fields["uris"]); len(uris) > 0 {
			return uris[0]
		}
	}
	return ""
}

func mirrorOneLine(path, suite string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && strings.HasPrefix(fields[1], "[") { // deb [opts] uri suite
			for len(fields) > 1 && !strings.HasSuffix(fields[1], "]") {
				fields = append(fields[:1], fields[2:]...)
			}
			fields = append(fields[:1], fields[2:]...)
		}
		if len(fields) >= 4 && fields[0] == "deb" && fields[2] == suite && hasWord(strings.Join(fields[3:], " "), "main") {
			return fields[1]
		}
	}
	return ""
}

func hasWord(list, word string) bool {
	for _, w := range strings.Fields(list) {
		if w == word {
			return true
		}
	}
	return false
}

package lock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FileStore keeps the lock in a file on this machine: created by linking a
// complete temporary file to Path (link fails when Path exists), so a
// reader never sees half a lock.
type FileStore struct {
	Path string
}

// Where is the file's path.
func (f FileStore) Where() string { return f.Path }

// Create makes Path's directory (0700) when missing and links the lock in.
func (f FileStore) Create(_ context.Context, info Info) (*Info, error) {
	if err := os.MkdirAll(filepath.Dir(f.Path), 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(f.Path), ".lock-*.tmp")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(info.Encode()); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), f.Path); err == nil {
		return nil, nil
	} else if !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	holder, err := f.Read(context.Background())
	if err != nil {
		return nil, err
	}
	if holder == nil { // released between the link and the read: try once more
		return f.Create(context.Background(), info)
	}
	return holder, nil
}

// Read returns the lock in Path.
func (f FileStore) Read(context.Context) (*Info, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	i, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	return i, nil
}

// Delete removes Path when it holds id.
func (f FileStore) Delete(ctx context.Context, id string) error {
	holder, err := f.Read(ctx)
	if err != nil || holder == nil || holder.ID != id {
		return err
	}
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

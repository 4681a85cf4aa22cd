package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mattn/go-sqlite3"
)

// ErrBackupOnServer is Backup on PostgreSQL: the server's own tools copy
// it consistently while it serves, and woozoom does not pretend to.
var ErrBackupOnServer = errors.New("the database is on PostgreSQL: back it up with pg_dump (pg_dump -Fc -f woozoom.dump URL), or with the server's own backup (pg_basebackup, your provider's snapshots)")

// Backup writes a consistent copy of the live database to file through
// SQLite's online backup API. It copies in one step inside one read
// transaction, which in WAL mode neither waits for writers nor holds them
// up, so it is safe while woozoom serves. The copy is checked, synced and
// renamed into place: file is either the whole copy or untouched.
func (d *DB) Backup(ctx context.Context, file string) (pages int, err error) {
	if d.pg {
		return 0, ErrBackupOnServer
	}
	if _, err := os.Stat(file); err == nil {
		return 0, fmt.Errorf("back up to %s: the file exists; choose a new name", file)
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("back up to %s: %w", file, err)
	}
	tmpName := tmp.Name()
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("back up to %s: %w", file, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmpName)
		}
	}()

	dst, err := sql.Open("sqlite3", "file:"+tmpName)
	if err != nil {
		return 0, fmt.Errorf("back up to %s: %w", file, err)
	}
	defer func() {
		if cerr := dst.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("back up to %s: close the copy: %w", file, cerr)
		}
	}()
	if pages, err = copyDB(ctx, d.db, dst); err != nil {
		return 0, fmt.Errorf("back up to %s: %w", file, err)
	}
	var ok string
	if err := dst.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&ok); err != nil {
		return 0, fmt.Errorf("back up to %s: check the copy: %w", file, err)
	}
	if ok != "ok" {
		return 0, fmt.Errorf("back up to %s: the copy fails its integrity check: %s", file, ok)
	}
	// Fold the copy's WAL into its file, so one file is the whole backup.
	if _, err := dst.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, fmt.Errorf("back up to %s: %w", file, err)
	}
	if err := dst.Close(); err != nil {
		return 0, fmt.Errorf("back up to %s: close the copy: %w", file, err)
	}
	if err := syncFile(tmpName); err != nil {
		return 0, fmt.Errorf("back up to %s: %w", file, err)
	}
	if err := os.Rename(tmpName, file); err != nil {
		return 0, fmt.Errorf("back up to %s: %w", file, err)
	}
	return pages, syncFile(filepath.Dir(file))
}

// copyDB runs the backup from src's main database into dst's.
func copyDB(ctx context.Context, src, dst *sql.DB) (int, error) {
	sc, err := src.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = sc.Close() }() // returned to the pool; nothing written
	dc, err := dst.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = dc.Close() }() // the copy's handle is closed and checked by Backup
	pages := 0
	err = dc.Raw(func(dRaw any) error {
		return sc.Raw(func(sRaw any) error {
			dConn, ok1 := dRaw.(*sqlite3.SQLiteConn)
			sConn, ok2 := sRaw.(*sqlite3.SQLiteConn)
			if !ok1 || !ok2 {
				return errors.New("not a SQLite connection")
			}
			bk, err := dConn.Backup("main", sConn, "main")
			if err != nil {
				return err
			}
			done, err := bk.Step(-1)
			pages = bk.PageCount()
			if ferr := bk.Finish(); err == nil {
				err = ferr
			}
			if err == nil && !done {
				err = errors.New("the backup stopped before the last page")
			}
			return err
		})
	})
	return pages, err
}

func syncFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/woozoom/woozoom/rules"
)

// Mapping sources.
const (
	FromConfig = "config"
	FromCLI    = "cli"
	// FromMade: a meeting woozoom made from the product (made_meetings).
	FromMade = "made"
)

// StoredMapping is a mapping with its row id and where it came from.
type StoredMapping struct {
	ID     int64
	Source string
	rules.Mapping
}

// Mappings returns every mapping, with the meetings woozoom made for
// products (source "made", id 0).
func (d *DB) Mappings(ctx context.Context) ([]StoredMapping, error) {
	rows, err := d.queryCached(ctx, nil, `
		SELECT id, source, product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids, zoom_account FROM mappings WHERE shop = ?
		UNION ALL
		SELECT 0, 'made', product_id, 0, day, '', target_kind, target_id, '', '' FROM made_meetings WHERE shop = ? AND state = 'made'
		ORDER BY 3, 4, 5, 6, 7, 8`, d.shop, d.shop)
	if err != nil {
		return nil, fmt.Errorf("list mappings: %w", err)
	}
	defer rows.Close()
	var out []StoredMapping
	for rows.Next() {
		var m StoredMapping
		if err := rows.Scan(&m.ID, &m.Source, &m.ProductID, &m.VariationID, &m.Day, &m.Slot, &m.Target.Kind, &m.Target.ID, &m.Occurrences, &m.ZoomAccount); err != nil {
			return nil, fmt.Errorf("list mappings: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// AddMapping adds a mapping; adding one that exists changes nothing and
// reports false.
func (d *DB) AddMapping(ctx context.Context, m rules.Mapping, source string) (bool, error) {
	res, err := d.exec(ctx, `
		INSERT INTO mappings (product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids, source, created_at, zoom_account, shop)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		m.ProductID, m.VariationID, m.Day, m.Slot, m.Target.Kind, m.Target.ID, m.Occurrences, source, d.now(), m.ZoomAccount, d.shop)
	if err != nil {
		return false, fmt.Errorf("add mapping of product %d to %s: %w", m.ProductID, m.Target, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// RemoveMapping removes a mapping and reports whether it existed.
func (d *DB) RemoveMapping(ctx context.Context, m rules.Mapping) (bool, error) {
	res, err := d.exec(ctx, `
		DELETE FROM mappings WHERE shop = ? AND product_id = ? AND variation_id = ? AND day = ? AND slot = ?
			AND target_kind = ? AND target_id = ? AND occurrence_ids = ?`,
		d.shop, m.ProductID, m.VariationID, m.Day, m.Slot, m.Target.Kind, m.Target.ID, m.Occurrences)
	if err != nil {
		return false, fmt.Errorf("remove mapping of product %d to %s: %w", m.ProductID, m.Target, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SyncConfigMappings makes the mappings that came from config.yaml equal to
// ms; mappings added on the command line are kept.
func (d *DB) SyncConfigMappings(ctx context.Context, ms []rules.Mapping) error {
	now := d.now()
	err := d.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM mappings WHERE shop = ? AND source = 'config'`, d.shop); err != nil {
			return err
		}
		for _, m := range ms {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO mappings (product_id, variation_id, day, slot, target_kind, target_id, occurrence_ids, source, created_at, zoom_account, shop)
				VALUES (?, ?, ?, ?, ?, ?, ?, 'config', ?, ?, ?) ON CONFLICT DO NOTHING`,
				m.ProductID, m.VariationID, m.Day, m.Slot, m.Target.Kind, m.Target.ID, m.Occurrences, now, m.ZoomAccount, d.shop); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load mappings from config: %w", err)
	}
	return nil
}

// RulesMappings returns the mappings as the rules read them.
func RulesMappings(ms []StoredMapping) []rules.Mapping {
	out := make([]rules.Mapping, len(ms))
	for i, m := range ms {
		out[i] = m.Mapping
	}
	return out
}

// ActiveMappings returns every mapping as the rules read them.
func (d *DB) ActiveMappings(ctx context.Context) ([]rules.Mapping, error) {
	ms, err := d.Mappings(ctx)
	if err != nil {
		return nil, err
	}
	return RulesMappings(ms), nil
}

// ZoomAccountOf says which Zoom account t belongs to: the account a mapping
// of any shop names, else the host woozoom made it for; both empty when
// nothing places it (it is then the default account's).
func (d *DB) ZoomAccountOf(ctx context.Context, t rules.Target) (account, host string, err error) {
	err = d.db.QueryRowContext(ctx, `
		SELECT COALESCE(MAX(zoom_account), '') FROM mappings WHERE target_kind = ? AND target_id = ?`,
		t.Kind, t.ID).Scan(&account)
	if err == nil && account == "" {
		err = d.db.QueryRowContext(ctx, `
			SELECT COALESCE(MAX(host), '') FROM made_meetings WHERE target_kind = ? AND target_id = ?`,
			t.Kind, t.ID).Scan(&host)
	}
	if err != nil {
		return "", "", fmt.Errorf("read the Zoom account of %s: %w", t, err)
	}
	return account, host, nil
}

// MadeBy says whether a product's mapping to t is a meeting woozoom made
// for it (which map remove does not undo: its create entry rules it).
func (d *DB) MadeBy(ctx context.Context, productID int64, t rules.Target) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM made_meetings WHERE shop = ? AND product_id = ? AND target_kind = ? AND target_id = ? AND state = 'made'`,
		d.shop, productID, t.Kind, t.ID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read the meetings made for product %d: %w", productID, err)
	}
	return n > 0, nil
}

// MadeMeetingMessage says why a made meeting's mapping is not removed.
const MadeMeetingMessage = "woozoom made this meeting from the product (its create entry in config.yaml): it follows the product and goes when the product is trashed"

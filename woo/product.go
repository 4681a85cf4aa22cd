package woo

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/woozoom/woozoom/rules"
)

// ParseProduct reads a product as the REST API or a product webhook gives it.
func ParseProduct(body []byte) (rules.Product, error) {
	var in struct {
		ID              int64        `json:"id"`
		Name            string       `json:"name"`
		Status          string       `json:"status"`
		ManageStock     bool         `json:"manage_stock"`
		StockQuantity   *int         `json:"stock_quantity"`
		DateModifiedGMT string       `json:"date_modified_gmt"`
		MetaData        []rules.Meta `json:"meta_data"`
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return rules.Product{}, fmt.Errorf("read product: %w", err)
	}
	if in.ID <= 0 {
		return rules.Product{}, fmt.Errorf("read product: no id")
	}
	p := rules.Product{ID: in.ID, Name: in.Name, Status: in.Status, Meta: in.MetaData}
	if in.ManageStock {
		p.Stock = in.StockQuantity
	}
	if in.DateModifiedGMT != "" {
		t, err := time.Parse("2006-01-02T15:04:05", in.DateModifiedGMT)
		if err != nil {
			return p, fmt.Errorf("read product %d: date_modified_gmt %q: %w", in.ID, in.DateModifiedGMT, err)
		}
		p.Modified = t.UTC()
	}
	return p, nil
}

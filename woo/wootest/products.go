package wootest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"time"
)

var reProduct = regexp.MustCompile(`^/wp-json/wc/v3/products/(\d+)$`)

// Product is a product as the fake shop holds it.
type Product struct {
	ID     int64
	Name   string
	Status string // publish (default), draft, private, trash
	// Stock is the stock quantity when the product manages stock.
	Stock    *int
	Meta     []Meta
	Modified time.Time
}

// CreateProduct adds a product and returns its id.
func (s *Shop) CreateProduct(p Product) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.products == nil {
		s.products = map[int64]*Product{}
	}
	s.nextID++
	p.ID = s.nextID
	if p.Status == "" {
		p.Status = "publish"
	}
	for i := range p.Meta {
		if p.Meta[i].ID == 0 {
			s.nextID++
			p.Meta[i].ID = s.nextID
		}
	}
	p.Modified = s.Now().UTC().Truncate(time.Second)
	s.products[p.ID] = &p
	s.enqueueLocked("product.created", p.ID)
	return p.ID
}

// Product returns a product as the shop holds it.
func (s *Shop) Product(id int64) (Product, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.products[id]
	if p == nil {
		return Product{}, false
	}
	c := *p
	c.Meta = append([]Meta(nil), p.Meta...)
	return c, true
}

// ProductMeta returns a product's meta value by key.
func (s *Shop) ProductMeta(id int64, key string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.products[id]
	if p == nil {
		return nil, false
	}
	for _, m := range p.Meta {
		if m.Key == key {
			return m.Value, true
		}
	}
	return nil, false
}

// SetProduct changes a product as an admin would in the shop's editor.
func (s *Shop) SetProduct(id int64, change func(*Product)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.products[id]; p != nil {
		was := p.Status
		change(p)
		p.Modified = s.Now().UTC().Truncate(time.Second)
		topic := "product.updated"
		switch {
		case p.Status == "trash" && was != "trash":
			topic = "product.deleted" // WooCommerce fires it when a product is trashed
		case was == "trash" && p.Status != "trash":
			topic = "product.restored" // untrashed_post
			if s.restoreSavesLocked() {
				s.enqueueLocked("product.updated", id)
			}
		}
		s.enqueueLocked(topic, id)
	}
}

// restoreSavesLocked reports whether restoring a product saves it first, so
// that product.updated goes out before product.restored. WooCommerce's
// untrash of a product clears a global unique ID (GTIN) that is no longer
// unique by saving the product (WC_Post_Data::clear_global_unique_id_if_necessary,
// which came with that field in 9.2); seen on 10.0.2, not on 7.9.0.
func (s *Shop) restoreSavesLocked() bool {
	var major, minor int
	if _, err := fmt.Sscanf(s.Version, "%d.%d", &major, &minor); err != nil {
		return true
	}
	return major > 9 || major == 9 && minor >= 2
}

func (s *Shop) productJSONLocked(p *Product) map[string]any {
	meta := p.Meta
	if meta == nil {
		meta = []Meta{}
	}
	out := map[string]any{"id": p.ID, "name": p.Name, "status": p.Status, "type": "simple",
		"date_modified": p.Modified.Add(2 * time.Hour).Format("2006-01-02T15:04:05"), "date_modified_gmt": p.Modified.Format("2006-01-02T15:04:05"),
		"manage_stock": p.Stock != nil, "stock_quantity": nil, "meta_data": meta}
	if p.Stock != nil {
		out["stock_quantity"] = *p.Stock
	}
	return out
}

// restProduct serves GET and PUT of /products/{id}: a PUT changes the name
// and meta (WooCommerce's meta rules, as for orders).
func (s *Shop) restProduct(w http.ResponseWriter, r *http.Request, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.products[id]
	if p == nil {
		restError(w, http.StatusNotFound, "woocommerce_rest_product_invalid_id", "Invalid ID.")
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.productJSONLocked(p))
	case http.MethodPut, http.MethodPost, http.MethodPatch:
		var in struct {
			Name     *string `json:"name"`
			MetaData []struct {
				ID    int64  `json:"id"`
				Key   string `json:"key"`
				Value any    `json:"value"`
			} `json:"meta_data"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			restError(w, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
			return
		}
		if in.Name != nil {
			p.Name = *in.Name
		}
		for _, m := range in.MetaData {
			s.setMetaIn(&p.Meta, m.ID, m.Key, m.Value)
		}
		p.Modified = s.Now().UTC().Truncate(time.Second)
		s.enqueueLocked("product.updated", id)
		writeJSON(w, http.StatusOK, s.productJSONLocked(p))
	default:
		restError(w, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

package loadgen

import (
	"encoding/json"
	"net/http"
)

// MapServer is the baseline a code service is measured against: the least
// a lookup server can do on net/http. It decodes the same JSON request
// ({"id": "..."}), reads a plain Go map and encodes the colour. It has no
// keying, no cache, no limits, no metrics and no token.
type MapServer struct {
	Colours map[string]string // raw ID -> colour; read-only while serving
}

// ServeHTTP answers {"colour": "..."}; unknown IDs are green.
func (m *MapServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c, ok := m.Colours[req.ID]
	if !ok {
		c = "green"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Colour string `json:"colour"`
	}{c})
}

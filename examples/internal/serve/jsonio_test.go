package serve

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A UTF-8 byte order mark (Windows tools write one) is the encoding's
// signature, not a character of the value; positions after it count from
// the character that follows.
func TestDecodeJSONSkipsByteOrderMark(t *testing.T) {
	var v struct {
		ID string `json:"id"`
	}
	require.NoError(t, DecodeJSON(strings.NewReader("\ufeff{\"id\":\"a\"}"), 100, &v))
	require.Equal(t, "a", v.ID)
	err := DecodeJSON(strings.NewReader("\ufeff{\"id\":1}"), 100, &v)
	var be *BodyError
	require.ErrorAs(t, err, &be)
	require.Equal(t, [3]any{1, 7, "id"}, [3]any{be.Line, be.Column, be.Field})
	err = DecodeJSON(strings.NewReader("\ufeff \r\n"), 100, &v)
	require.ErrorContains(t, err, "empty body")
}

func TestCheckContentType(t *testing.T) {
	for _, ct := range []string{"", "application/json", "Application/JSON; charset=utf-8", "application/json;charset=UTF8",
		"application/x-www-form-urlencoded", "text/plain", "application/x-ndjson", "application/merge-patch+json", "application/yaml"} {
		h := http.Header{}
		if ct != "" {
			h.Set("Content-Type", ct)
		}
		require.NoError(t, CheckContentType(h), ct)
	}
	for _, ct := range []string{"application/json; charset=gbk", "text/plain; charset=latin1", "multipart/form-data; boundary=x",
		"application/xml", "image/png", "application/json; charset"} {
		h := http.Header{"Content-Type": {ct}}
		err := CheckContentType(h)
		require.Error(t, err, ct)
		require.True(t, errors.Is(err, ErrMediaType), ct)
		require.Contains(t, err.Error(), "Content-Type", ct)
	}
}

// Package pgstore is a codes.Store, codes.LinkStore and codes.Feed on PostgreSQL.
package pgstore

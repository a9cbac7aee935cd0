// Package mysqlstore is a codes.Store, codes.LinkStore and codes.Feed on
// MySQL-wire databases.
package mysqlstore

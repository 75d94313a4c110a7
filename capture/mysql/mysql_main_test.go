package mysql

import (
	"os"
	"testing"

	"github.com/cairnlog/cairn/fixtures"
)

// TestMain stops the shared MariaDB server (fixtures.SharedMariaDB) after
// the package's tests.
func TestMain(m *testing.M) {
	os.Exit(fixtures.RunTests(m))
}

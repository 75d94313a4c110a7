package schema

import (
	"os"
	"testing"

	"github.com/cairnlog/cairn/fixtures"
)

func TestMain(m *testing.M) { os.Exit(fixtures.RunTests(m)) }

package schema

import (
	"bytes"
	_ "embed"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// InventoryJSON is the schema for inventory files (warren's list of
// brokers), as published for editors.
//
//go:embed inventory.schema.json
var InventoryJSON []byte

// InventoryURL is the inventory schema's $id.
const InventoryURL = "https://warren.dev/schema/inventory.schema.json"

var inventorySchema = sync.OnceValue(func() *jsonschema.Schema {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	if err := c.AddResource(InventoryURL, bytes.NewReader(InventoryJSON)); err != nil {
		panic(fmt.Sprintf("schema: embedded inventory schema does not load: %v", err))
	}
	return c.MustCompile(InventoryURL)
})

// ValidateInventory checks a decoded inventory file against its schema. As
// Validate, it returns diagnostics with pointers and no file or position.
func ValidateInventory(v any) Diagnostics {
	err := inventorySchema().Validate(v)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return Diagnostics{{Severity: Error, Code: ESchema, Message: err.Error()}}
	}
	var out Diagnostics
	collect(ve, &out, map[string]bool{})
	return out
}

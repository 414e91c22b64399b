package rabbitmq

import (
	"sync"

	"github.com/warren-tool/warren/definitions"
)

// concealed is the set of secret values a Client masks in what a broker
// says: the passwords and URIs (and URI passwords) warren resolved and
// sends.
type concealed struct {
	mu     sync.Mutex
	values []string
}

// Conceal adds secret values that the client masks, from now on, in every
// text that comes from the broker (an error's type and reason), besides
// the passwords of URIs, which are masked by their shape. Apply calls it
// with every secret its plan sends, before the first request.
func (c *Client) Conceal(values ...string) {
	c.secrets.mu.Lock()
	defer c.secrets.mu.Unlock()
	c.secrets.values = append(c.secrets.values, values...)
}

func (s *concealed) mask(text string) string {
	if text == "" {
		return text
	}
	s.mu.Lock()
	values := s.values
	s.mu.Unlock()
	return definitions.MaskText(text, values)
}

package rabbitmq

// Conceal adds secret values that the client masks, from now on, in every
// text that comes from the broker (an error's type and reason), besides
// the passwords of URIs, which are masked by their shape. Apply calls it
// with every secret its plan sends, before the first request.
func (c *Client) Conceal(values ...string) { c.secrets.Add(values...) }

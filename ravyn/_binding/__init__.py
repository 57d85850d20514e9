"""Private helpers of `ravyn.params`: how a handler's parameters are bound to a request."""

// A dialect port forwards its clients' requests to the gateway with these headers, and with the
// internal token that proves they came from the port and not from a client (who could send them
// too): which listener the request arrived on, and the client's own address.
export const LISTENER_HEADER = 'x-spindle-listener';
export const CLIENT_ADDRESS_HEADER = 'x-spindle-client-address';
// The native API's listener (the main port, /compat/* included).
export const API_LISTENER = 'api';

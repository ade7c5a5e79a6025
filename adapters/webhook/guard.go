package webhook

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"code.dny.dev/ssrf"
)

// guard refuses the addresses a webhook must not reach.
type guard struct{ g *ssrf.Guardian }

// newGuard refuses, on any port, what ssrf refuses by default: the IANA
// special-purpose IPv4 ranges (0/8, 10/8, 100.64/10, 127/8, 169.254/16,
// 172.16/12, 192.168/16, multicast, reserved, documentation…) and every
// IPv6 address outside global unicast (2000::/3: loopback, unspecified,
// link-local, unique local, multicast, IPv4-mapped and NAT64 among them)
// or in its special ranges; only tcp4 and tcp6.
func newGuard() *guard { return &guard{g: ssrf.New(ssrf.WithAnyPort())} }

// check is the dialer's Control: it runs on the socket about to connect,
// with the resolved address, so it judges the address actually dialled.
func (g *guard) check(network, address string) error {
	if err := g.g.Safe(network, address, nil); err != nil {
		return fmt.Errorf("%w: %w", ErrAddressRefused, err)
	}
	return nil
}

// checkAddr judges an address before any socket exists.
func (g *guard) checkAddr(ap netip.AddrPort) error {
	if err := g.g.SafeAddrPort(ap); err != nil {
		return fmt.Errorf("%w: %w", ErrAddressRefused, err)
	}
	return nil
}

// control is the net.Dialer's Control function when the guard is on.
func (s *Sender) control(network, address string, _ syscall.RawConn) error {
	if s.hooks.public(address) {
		return nil
	}
	return s.guard.check(network, address)
}

// dialContext is the transport's dialer. An IP literal is judged before a
// socket is made (so the refusal does not depend on the system's support
// of the address family); every connection is judged again by control,
// after resolution.
func (s *Sender) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	addr = s.hooks.resolve(addr)
	if s.guard != nil && !s.hooks.public(addr) {
		if ap, err := netip.ParseAddrPort(addr); err == nil {
			if err := s.guard.checkAddr(ap); err != nil {
				return nil, &net.OpError{Op: "dial", Net: network, Err: err}
			}
		}
	}
	return s.dialer.DialContext(ctx, network, addr)
}

// testHooks let this package's tests stand in for DNS and for a public
// receiver. They are unexported: production code cannot set them.
type testHooks struct {
	// hosts maps a host name to the IP address dialled for it.
	hosts map[string]string
	// publicAddrs are dialled addresses ("127.0.0.1:5555") the guard
	// lets through, as if they were public.
	publicAddrs map[string]bool
}

// resolve returns addr with its host replaced by hosts, if it is there.
func (h *testHooks) resolve(addr string) string {
	if h == nil {
		return addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip, ok := h.hosts[host]; ok {
		return net.JoinHostPort(ip, port)
	}
	return addr
}

// public reports whether addr plays a public receiver.
func (h *testHooks) public(addr string) bool {
	return h != nil && h.publicAddrs[addr]
}

package httpapi

import (
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// trustedProxies is the parsed GELLHUB_TRUSTED_PROXIES.
type trustedProxies []netip.Prefix

func parseTrusted(list []string) trustedProxies {
	var out trustedProxies
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

func (t trustedProxies) contains(a netip.Addr) bool {
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

const localClientIP = "clientIP"

// clientIP returns the client's address. The peer is the client unless it
// is a trusted proxy; then X-Forwarded-For is read from the right, skipping
// trusted proxies, and the first address that is not one is the client.
// Anything that does not parse as an IP ends the walk (the peer's view is
// kept), so a client cannot inject text or choose its own address.
func (s *Server) clientIP(c *fiber.Ctx) string {
	if v, ok := c.Locals(localClientIP).(string); ok {
		return v
	}
	ip := resolveClientIP(c, s.trusted)
	c.Locals(localClientIP, ip)
	return ip
}

func resolveClientIP(c *fiber.Ctx, trusted trustedProxies) string {
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return "unknown"
	}
	client := peer.Unmap()
	if len(trusted) == 0 || !trusted.contains(client) {
		return client.String()
	}
	hops := strings.Split(strings.Join(c.GetReqHeaders()[fiber.HeaderXForwardedFor], ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		client = a.Unmap()
		if !trusted.contains(client) {
			break
		}
	}
	return client.String()
}

// rateKeyIP is the address rate limits count under: IPv6 clients are
// grouped by /64, the block one subscriber usually holds.
func rateKeyIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Is4() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

package oauth

// RateLimiterKeys returns how many keys the server's rate limiters track.
func RateLimiterKeys(s *Server) int { return s.clientLimit.size() + s.addrLimit.size() }

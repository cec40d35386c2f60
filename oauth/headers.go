package oauth

// Header values shared by every response, assigned without copying: each
// slice has len == cap, so an append by a later handler copies it.
var (
	hvJSON       = []string{"application/json;charset=UTF-8"}
	hvNoStore    = []string{"no-store"}
	hvNoCache    = []string{"no-cache"}
	hvDeny       = []string{"DENY"}
	hvFrameNone  = []string{"frame-ancestors 'none'"}
	hvNoReferrer = []string{"no-referrer"}
)

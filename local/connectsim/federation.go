package connectsim

import (
	"net/http"
	"strings"
	"time"
)

// GetFederationToken: "Retrieves a token for federation. The token is for the Connect user which
// corresponds to the IAM credentials that were used to invoke this action." connectsim has no
// IAM: the access key ID of the request's SigV4 credential stands for the caller's identity,
// and names the user of that username (as Connect matches a SAML caller's role session name to
// the username). No such user: UserNotFoundException (404).

// federationSession is how long the tokens are valid: "Amazon Connect sessions expire 12 hours
// after a user logs in" (admin guide, Configure SAML). The API reference gives no figure for
// either token: both are assumed to last the session.
const federationSession = 12 * time.Hour

// accessKeyID is the access key ID of a SigV4-signed request (header or presigned query).
func accessKeyID(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if h := r.Header.Get("Authorization"); h != "" {
		for _, part := range strings.Split(strings.TrimPrefix(h, "AWS4-HMAC-SHA256 "), ",") {
			if k, v, _ := strings.Cut(strings.TrimSpace(part), "="); k == "Credential" {
				cred = v
			}
		}
	}
	key, _, _ := strings.Cut(cred, "/")
	return key
}

func (s *Sim) getFederationToken(c *call) (any, *apiError) {
	return s.withInstance(c, func(inst *Instance) (any, *apiError) {
		key := accessKeyID(c.r)
		s.mu.Lock()
		defer s.mu.Unlock()
		u := s.dirs[inst.ID].byUsername(key)
		if u == nil {
			return nil, newErr(errUserNotFound, "No user with the specified credentials was found in the Amazon Connect instance %s (connectsim: the access key ID names the username)", inst.ID)
		}
		now := s.clock.Now()
		s.log.Info("federation token issued", "instance_id", inst.ID, "user_id", u.id)
		return map[string]any{
			"Credentials": map[string]any{
				"AccessToken": randomToken(32), "AccessTokenExpiration": epoch(now.Add(federationSession)),
				"RefreshToken": randomToken(32), "RefreshTokenExpiration": epoch(now.Add(federationSession)),
			},
			// The console's federation URL of the admin guide's SAML set-up (its relay state).
			"SignInUrl": "https://" + s.world.Region + ".console.aws.amazon.com/connect/federate/" + inst.ID,
			"UserArn":   s.userARN(inst.ID, u.id),
			"UserId":    u.id,
		}, nil
	})
}

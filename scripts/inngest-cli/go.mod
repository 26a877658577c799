// A local module whose only purpose is to build the Inngest CLI and the Go SDK conformance
// fixture at a pinned version. The CLI's own module carries a replace directive, which
// `go install module@version` refuses, so the build goes through this module instead and the
// directive is repeated below. scripts/setup.d/inngest-cli copies this folder under .tools/ and
// builds there, so the go.sum it writes stays out of the tree.
module nestling.invalid/inngest-cli

go 1.26.4

// v1.43.0 is the newest tag that carries `inngest alpha conformance` (added in v1.19.2).
require github.com/inngest/inngest v1.43.0

replace github.com/tencentcloud/tencentcloud-sdk-go v3.0.82+incompatible => github.com/tencentcloud/tencentcloud-sdk-go v1.0.191

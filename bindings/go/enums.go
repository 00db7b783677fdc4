package gitfleet

// The constants of this package mirror the header's enumerations. Each
// line below stops the package from compiling when one of them differs:
// its index is then out of the array's range.

/*
#include "gitfleet.h"
*/
import "C"

var (
	_ = [1]struct{}{}[StatusOK-C.GF_STATUS_OK]
	_ = [1]struct{}{}[StatusInvalidArgument-C.GF_STATUS_INVALID_ARGUMENT]
	_ = [1]struct{}{}[StatusInternal-C.GF_STATUS_INTERNAL]
	_ = [1]struct{}{}[StatusAuth-C.GF_STATUS_AUTH]
	_ = [1]struct{}{}[StatusRateLimited-C.GF_STATUS_RATE_LIMITED]
	_ = [1]struct{}{}[StatusSecondaryLimited-C.GF_STATUS_SECONDARY_LIMITED]
	_ = [1]struct{}{}[StatusNotFound-C.GF_STATUS_NOT_FOUND]
	_ = [1]struct{}{}[StatusForbidden-C.GF_STATUS_FORBIDDEN]
	_ = [1]struct{}{}[StatusHTTP-C.GF_STATUS_HTTP]
	_ = [1]struct{}{}[StatusNetwork-C.GF_STATUS_NETWORK]
	_ = [1]struct{}{}[StatusTimeout-C.GF_STATUS_TIMEOUT]
	_ = [1]struct{}{}[StatusDecode-C.GF_STATUS_DECODE]
	_ = [1]struct{}{}[StatusCancelled-C.GF_STATUS_CANCELLED]
	_ = [1]struct{}{}[StatusShutDown-C.GF_STATUS_SHUT_DOWN]
	_ = [1]struct{}{}[StatusIO-C.GF_STATUS_IO]
	_ = [1]struct{}{}[StatusCrypto-C.GF_STATUS_CRYPTO]
	_ = [1]struct{}{}[StatusFormat-C.GF_STATUS_FORMAT]

	_ = [1]struct{}{}[ProviderGitHub-C.GF_PROVIDER_GITHUB]
	_ = [1]struct{}{}[ProviderGitLab-C.GF_PROVIDER_GITLAB]
	_ = [1]struct{}{}[ProviderBitbucket-C.GF_PROVIDER_BITBUCKET]

	_ = [1]struct{}{}[StrategyRateAware-C.GF_STRATEGY_RATE_AWARE]
	_ = [1]struct{}{}[StrategyRoundRobin-C.GF_STRATEGY_ROUND_ROBIN]
	_ = [1]struct{}{}[StrategyPriority-C.GF_STRATEGY_PRIORITY]

	_ = [1]struct{}{}[OutcomeSuccess-C.GF_OUTCOME_SUCCESS]
	_ = [1]struct{}{}[OutcomeNotModified-C.GF_OUTCOME_NOT_MODIFIED]
	_ = [1]struct{}{}[OutcomeInvalidToken-C.GF_OUTCOME_INVALID_TOKEN]
	_ = [1]struct{}{}[OutcomePrimaryLimit-C.GF_OUTCOME_PRIMARY_LIMIT]
	_ = [1]struct{}{}[OutcomeSecondaryLimit-C.GF_OUTCOME_SECONDARY_LIMIT]
	_ = [1]struct{}{}[OutcomeForbidden-C.GF_OUTCOME_FORBIDDEN]
	_ = [1]struct{}{}[OutcomeNotFound-C.GF_OUTCOME_NOT_FOUND]
	_ = [1]struct{}{}[OutcomeServerError-C.GF_OUTCOME_SERVER_ERROR]
	_ = [1]struct{}{}[OutcomeOtherError-C.GF_OUTCOME_OTHER_ERROR]
)

// cStatusName is the C library's name for a status number.
func cStatusName(s Status) string {
	return C.GoString(C.gf_status_name(C.int32_t(s)))
}

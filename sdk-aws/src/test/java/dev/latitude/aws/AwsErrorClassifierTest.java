package dev.latitude.aws;

import static org.assertj.core.api.Assertions.assertThat;

import dev.latitude.FailureKind;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;

/** The rules every AWS adapter's classifier shares, around a service's own. */
class AwsErrorClassifierTest {
    /** A service whose only rule: error code "Busy" is the region's, anything else the caller's. */
    private static final class Service extends AwsErrorClassifier {
        @Override
        protected FailureKind classifyService(AwsServiceException error) {
            if ("Explode".equals(errorCode(error))) {
                throw new IllegalStateException("a bug in a rule");
            }
            return "Busy".equals(errorCode(error)) ? FailureKind.REGION_UNAVAILABLE : FailureKind.CALLER;
        }

        @Override
        protected FailureKind classifyOwn(Throwable error) {
            return error instanceof IllegalArgumentException ? FailureKind.REGION_UNAVAILABLE : null;
        }
    }

    private final AwsErrorClassifier classifier = new Service();

    private static AwsServiceException service(String code) {
        return AwsServiceException.builder().statusCode(400)
                .awsErrorDetails(AwsErrorDetails.builder().errorCode(code).build()).build();
    }

    @Test
    void serviceErrors_goToTheServicesRules_throughCompletionAndExecutionWrappers() {
        assertThat(classifier.classify(service("Busy"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new CompletionException(new ExecutionException(service("Busy")))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(service("Refused"))).isEqualTo(FailureKind.CALLER);
        assertThat(classifier.classify(AwsServiceException.builder().statusCode(400).build()))
                .as("no error details: the code is null").isEqualTo(FailureKind.CALLER);
    }

    @Test
    void sdkTimeouts_areAmbiguous_beforeAnyServiceRule() {
        assertThat(classifier.classify(ApiCallAttemptTimeoutException.create(300))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(ApiCallTimeoutException.create(300))).isEqualTo(FailureKind.AMBIGUOUS);
    }

    @Test
    void clientErrors_areWhatTheConnectionDid_elseTheCallers() {
        assertThat(classifier.classify(SdkClientException.create("connect", new ConnectException("refused"))))
                .isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(SdkClientException.create("read", new SocketTimeoutException("read"))))
                .isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(SdkClientException.create("Unable to marshall request")))
                .isEqualTo(FailureKind.CALLER);
        assertThat(classifier.classify(SdkException.create("other", null))).isEqualTo(FailureKind.AMBIGUOUS);
    }

    @Test
    void theServicesOwnRulesComeFirst_andOtherFailuresAreAsTheDefaults() {
        assertThat(classifier.classify(new IllegalArgumentException("own"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new ConnectException("refused"))).isEqualTo(FailureKind.REGION_UNAVAILABLE);
        assertThat(classifier.classify(new IllegalStateException("a bug"))).isEqualTo(FailureKind.CALLER);
    }

    @Test
    void aRuleThatThrows_makesTheFailureAmbiguous_neverThrows() {
        assertThat(classifier.classify(service("Explode"))).isEqualTo(FailureKind.AMBIGUOUS);
        assertThat(classifier.classify(null)).isEqualTo(FailureKind.AMBIGUOUS);
    }
}

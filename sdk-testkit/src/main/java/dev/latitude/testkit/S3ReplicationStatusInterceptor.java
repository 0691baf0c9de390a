package dev.latitude.testkit;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;
import software.amazon.awssdk.core.SdkPlugin;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.ReplicationStatus;

/**
 * Adds {@code x-amz-replication-status} to the {@code GetObject} and {@code HeadObject} responses of a lab's servers,
 * from the lab's {@link S3ReplicationEmulator}: S3Proxy does not send the header, S3 does. The region is the one whose
 * front (or server) port the request went to; bucket and key come from the path-style request path, so requests to an
 * access point ARN that an endpoint provider sent to a lab region are covered too.
 */
final class S3ReplicationStatusInterceptor implements ExecutionInterceptor {
    static final String HEADER = "x-amz-replication-status";
    private static final String VERSION_HEADER = "x-amz-version-id";

    private final S3Regions lab;

    S3ReplicationStatusInterceptor(S3Regions lab) {
        this.lab = lab;
    }

    /**
     * Returns a client plugin that adds this interceptor when the client is built. A plugin rather than an override
     * setting: a caller's own {@code overrideConfiguration(...)} on the builder replaces the whole override
     * configuration, which would drop the interceptor; plugins run after it.
     */
    SdkPlugin plugin() {
        return config -> config.overrideConfiguration(config.overrideConfiguration().toBuilder()
                .addExecutionInterceptor(this).build());
    }

    @Override
    public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context,
            ExecutionAttributes executionAttributes) {
        SdkHttpResponse response = context.httpResponse();
        if (!(context.request() instanceof GetObjectRequest || context.request() instanceof HeadObjectRequest)
                || !response.isSuccessful()) {
            return response;
        }
        SdkHttpRequest http = context.httpRequest();
        Optional<S3Regions.Region> region = lab.regionAtPort(http.port());
        String path = decodedPath(http.encodedPath());
        int slash = path.indexOf('/', 1);
        if (region.isEmpty() || slash < 0) {
            return response;
        }
        String bucket = path.substring(1, slash);
        String key = path.substring(slash + 1);
        String version = response.firstMatchingHeader(VERSION_HEADER).filter(v -> !"null".equals(v)).orElse(null);
        Optional<ReplicationStatus> status = lab.replication().status(region.get().name(), bucket, key, version);
        return status.isEmpty() ? response : response.toBuilder().putHeader(HEADER, status.get().toString()).build();
    }

    private static String decodedPath(String encodedPath) {
        try {
            // Percent escapes only: S3 keys may hold '+', which form decoding would turn into a space.
            return new URI("http://h" + encodedPath).getPath();
        } catch (URISyntaxException e) {
            return encodedPath;
        }
    }
}

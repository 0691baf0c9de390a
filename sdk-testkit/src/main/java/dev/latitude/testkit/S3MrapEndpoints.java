package dev.latitude.testkit;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.endpoints.Endpoint;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;
import software.amazon.awssdk.services.s3.S3BaseClientBuilder;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.endpoints.S3EndpointParams;
import software.amazon.awssdk.services.s3.endpoints.S3EndpointProvider;

/**
 * Lets S3 clients address a Multi-Region Access Point of an {@link S3Regions} lab: an {@link S3EndpointProvider} that
 * resolves every request as the AWS SDK does (so a request to an access point ARN keeps its SigV4a signing
 * properties: the {@code sigv4a} scheme, signing name {@code s3}, region set {@code *}) and only swaps the URL for
 * the fault front of a lab region, with that region's bucket as the path. The AWS SDK ignores
 * {@code endpointOverride} for ARNs, so this is how MRAP requests reach local servers.
 *
 * <p>Which region an access point request goes to is asked of {@code activeRegion} for each request, as S3 routes
 * each request to the closest active region: tests pass a fixed region, or
 * {@code () -> control.activeRegion(arn, preference).orElseThrow()} so that route dials moved through
 * {@link S3ControlStubs} move the traffic. A request naming one of the buckets by its name (not the ARN) goes to that
 * bucket's region, signed with SigV4 as usual.
 *
 * <pre>{@code
 * S3MrapEndpoints endpoints = S3MrapEndpoints.create(lab, Map.of("us-east-1", "b-use1", "eu-west-1", "b-euw1"),
 *         () -> "eu-west-1");
 * try (S3Client mrap = endpoints.clientBuilder().build()) {
 *     mrap.putObject(b -> b.bucket(ARN).key("k"), RequestBody.fromString("v"));   // lands in b-euw1
 * }
 * }</pre>
 */
public final class S3MrapEndpoints implements S3EndpointProvider {
    private static final String SUFFIX = ".mrap";

    private final S3Regions lab;
    private final Map<String, String> buckets;
    private final Supplier<String> activeRegion;
    private final S3EndpointProvider sdk = S3EndpointProvider.defaultProvider();
    private volatile String lastRegion;

    private S3MrapEndpoints(S3Regions lab, Map<String, String> buckets, Supplier<String> activeRegion) {
        this.lab = lab;
        this.buckets = buckets;
        this.activeRegion = activeRegion;
    }

    /**
     * Creates the provider.
     *
     * @param lab the lab whose regions serve the access point
     * @param bucketPerRegion the bucket behind the access point in each lab region
     * @param activeRegion the region an access point request goes to, asked for each request
     * @return the provider
     * @throws java.util.NoSuchElementException if a region is not in the lab
     */
    public static S3MrapEndpoints create(S3Regions lab, Map<String, String> bucketPerRegion,
            Supplier<String> activeRegion) {
        Objects.requireNonNull(lab, "lab");
        Objects.requireNonNull(activeRegion, "activeRegion");
        bucketPerRegion.keySet().forEach(lab::region);
        return new S3MrapEndpoints(lab, Map.copyOf(new LinkedHashMap<>(bucketPerRegion)), activeRegion);
    }

    /**
     * Returns a sync client builder that uses this provider: virtual-host style (the SDK refuses path style with
     * ARNs; the swapped URL carries the bucket), the lab's credentials and status header, no chunked encoding,
     * checksums only where required. Its region only matters to requests by bucket name.
     */
    public S3ClientBuilder clientBuilder() {
        return configured(S3Client.builder()).httpClientBuilder(UrlConnectionHttpClient.builder());
    }

    /** Returns an async client builder configured as {@link #clientBuilder()}. */
    public S3AsyncClientBuilder asyncClientBuilder() {
        return configured(S3AsyncClient.builder());
    }

    private <B extends S3BaseClientBuilder<B, ?>> B configured(B builder) {
        return builder.endpointProvider(this)
                .region(software.amazon.awssdk.regions.Region.of(buckets.keySet().iterator().next()))
                .credentialsProvider(S3Regions.credentials())
                .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .addPlugin(lab.statusInterceptor().plugin());
    }

    /** Returns the region the last access point request was sent to, or null before the first. */
    public String lastRegion() {
        return lastRegion;
    }

    @Override
    public CompletableFuture<Endpoint> resolveEndpoint(S3EndpointParams params) {
        String bucket = params.bucket();
        String region;
        if (bucket != null && bucket.startsWith("arn:") && bucket.endsWith(SUFFIX)) {
            region = activeRegion.get();
            if (!buckets.containsKey(region)) {
                return CompletableFuture.failedFuture(new IllegalStateException("the access point's active region "
                        + region + " has no bucket among " + buckets));
            }
            lastRegion = region;
        } else {
            region = buckets.entrySet().stream().filter(e -> e.getValue().equals(bucket)).map(Map.Entry::getKey)
                    .findFirst().orElse(null);
            if (region == null) {
                return CompletableFuture.failedFuture(new IllegalArgumentException("bucket " + bucket + " is neither"
                        + " a Multi-Region Access Point ARN nor one of its buckets " + buckets));
            }
        }
        URI front = lab.region(region).endpoint();
        URI local = URI.create(front.getScheme() + "://" + front.getAuthority() + "/" + buckets.get(region));
        return sdk.resolveEndpoint(params).thenApply(e -> e.toBuilder().url(local).build());
    }

    @Override
    public String toString() {
        return "S3MrapEndpoints" + buckets;
    }
}

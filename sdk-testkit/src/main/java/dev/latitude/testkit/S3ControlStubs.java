package dev.latitude.testkit;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.extension.ResponseDefinitionTransformerV2;
import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.http.ResponseDefinition;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import software.amazon.awssdk.endpoints.Endpoint;
import software.amazon.awssdk.services.s3control.S3ControlClient;
import software.amazon.awssdk.services.s3control.S3ControlClientBuilder;
import software.amazon.awssdk.services.s3control.endpoints.S3ControlEndpointProvider;

/**
 * A stand-in for S3 Control's Multi-Region Access Point route API on a WireMock server on 127.0.0.1: the two calls
 * Latitude makes ({@code GetMultiRegionAccessPointRoutes}, {@code GET /v20180820/mrap/instances/{arn}/routes}, and
 * {@code SubmitMultiRegionAccessPointRoutes}, {@code PATCH} of the same path), with S3 Control's XML bodies, the
 * {@code x-amz-account-id} header, and the route dials kept as state that submissions change.
 *
 * <p>Each request is attributed to the control region it was signed for (the SigV4 credential scope), so tests can
 * fail one control region ({@link #failNext}, {@link #failAlways}) and see the next one tried; {@link #conflictNext}
 * answers submissions with S3's 409 for a concurrent update. {@link #calls()} records every request in order.
 *
 * <p>Clients come from {@link #clientBuilder(String)}: the AWS SDK puts the account id in front of the host name for
 * these calls ({@code 123456789012.s3-control.us-west-2.amazonaws.com}), which an endpoint override on 127.0.0.1
 * cannot take, so the builder wraps the SDK's endpoint provider instead: it resolves as usual (keeping the signing
 * properties) and swaps the URL for this server's.
 *
 * <pre>{@code
 * try (S3ControlStubs control = S3ControlStubs.start()) {
 *     control.accessPoint(ARN, List.of(new S3ControlStubs.Route("b-use1", "us-east-1", 100),
 *             new S3ControlStubs.Route("b-euw1", "eu-west-1", 0)));
 *     control.failNext("us-east-1", 1, 503, "SlowDown");
 *     S3ControlClient client = control.clientBuilder("us-east-1").build();
 * }
 * }</pre>
 */
public final class S3ControlStubs implements AutoCloseable {
    /** The regions that serve the MRAP route API, in the order AWS documents them. */
    public static final List<String> CONTROL_REGIONS =
            List.of("us-east-1", "us-west-2", "ap-southeast-2", "ap-northeast-1", "eu-west-1");

    private static final String NAMESPACE = "http://awss3control.amazonaws.com/doc/2018-08-20/";
    private static final Pattern PATH = Pattern.compile("/v20180820/mrap/instances/(.+)/routes");
    private static final Pattern SCOPE = Pattern.compile("Credential=[^/]+/\\d{8}/([a-z0-9-]+)/s3/aws4_request");

    /**
     * One route of an access point: a bucket, its region and its traffic dial.
     *
     * @param bucket the bucket
     * @param region the bucket's region
     * @param dial the traffic dial, 0 (passive) to 100
     */
    public record Route(String bucket, String region, int dial) {
        /** Checks the dial. */
        public Route {
            Objects.requireNonNull(region, "region");
            if (dial < 0 || dial > 100) {
                throw new IllegalArgumentException("a traffic dial is 0 to 100, got " + dial);
            }
        }
    }

    /**
     * One request the stand-in answered.
     *
     * @param controlRegion the region it was signed for
     * @param method {@code GET} or {@code PATCH} (or whatever came)
     * @param arn the access point named in the path, or null
     * @param accountId the {@code x-amz-account-id} header, or null
     * @param status the status answered
     * @param routeUpdates the routes a {@code PATCH} asked for, empty otherwise
     */
    public record Call(String controlRegion, String method, String arn, String accountId, int status,
            List<Route> routeUpdates) {
        /** Copies the updates. */
        public Call {
            routeUpdates = List.copyOf(routeUpdates);
        }
    }

    private record Failure(int status, String code) {
    }

    private final WireMockServer server;
    private final Map<String, List<Route>> accessPoints = new LinkedHashMap<>();
    private final Map<String, Deque<Failure>> nextFailures = new HashMap<>();
    private final Map<String, Failure> alwaysFailing = new HashMap<>();
    private int conflicts;
    private final List<Call> calls = new ArrayList<>();

    private S3ControlStubs() {
        Transformer transformer = new Transformer();
        server = new WireMockServer(WireMockConfiguration.options()
                .bindAddress("127.0.0.1")
                .dynamicPort()
                .jettyStopTimeout(0L)
                .stubRequestLoggingDisabled(true)
                .extensions(transformer));
        server.start();
        server.stubFor(any(anyUrl()).willReturn(aResponse().withTransformers(transformer.getName())));
    }

    /** Starts the stand-in on a free port of 127.0.0.1, with no access points. */
    public static S3ControlStubs start() {
        return new S3ControlStubs();
    }

    /** Returns the server's endpoint, {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.port());
    }

    /**
     * Creates (or replaces) an access point with its routes.
     *
     * @param arn the access point's ARN
     * @param routes its routes, one per region
     */
    public synchronized void accessPoint(String arn, List<Route> routes) {
        accessPoints.put(Objects.requireNonNull(arn, "arn"), new ArrayList<>(routes));
    }

    /**
     * Returns an access point's routes as they stand.
     *
     * @param arn the access point's ARN
     * @return its routes
     * @throws IllegalArgumentException if there is no such access point
     */
    public synchronized List<Route> routes(String arn) {
        List<Route> r = accessPoints.get(arn);
        if (r == null) {
            throw new IllegalArgumentException("no access point " + arn + "; known: " + accessPoints.keySet());
        }
        return List.copyOf(r);
    }

    /**
     * Returns the region an access point sends a request to now: the one with the highest dial, ties going to the
     * region earliest in {@code preference} (S3 picks the closest of the active ones). Empty if every dial is 0.
     *
     * @param arn the access point's ARN
     * @param preference regions, closest first
     * @return the region, if one is active
     */
    public synchronized java.util.Optional<String> activeRegion(String arn, List<String> preference) {
        return routes(arn).stream()
                .filter(r -> r.dial() > 0)
                .min(Comparator.comparingInt((Route r) -> -r.dial())
                        .thenComparingInt(r -> preference.contains(r.region()) ? preference.indexOf(r.region())
                                : Integer.MAX_VALUE))
                .map(Route::region);
    }

    /**
     * Answers the next {@code times} requests signed for {@code controlRegion} with an error.
     *
     * @param controlRegion a control region
     * @param times how many requests
     * @param status the HTTP status, such as 503
     * @param code the S3 error code, such as {@code SlowDown}
     */
    public synchronized void failNext(String controlRegion, int times, int status, String code) {
        Deque<Failure> q = nextFailures.computeIfAbsent(controlRegion, k -> new ArrayDeque<>());
        for (int i = 0; i < times; i++) {
            q.add(new Failure(status, code));
        }
    }

    /**
     * Answers every request signed for {@code controlRegion} with an error until {@link #heal(String)}.
     *
     * @param controlRegion a control region
     * @param status the HTTP status
     * @param code the S3 error code
     */
    public synchronized void failAlways(String controlRegion, int status, String code) {
        alwaysFailing.put(controlRegion, new Failure(status, code));
    }

    /**
     * Ends {@link #failAlways} and drops queued failures of {@code controlRegion}.
     *
     * @param controlRegion a control region
     */
    public synchronized void heal(String controlRegion) {
        alwaysFailing.remove(controlRegion);
        nextFailures.remove(controlRegion);
    }

    /**
     * Answers the next {@code times} submissions, in any control region, with S3's 409 for a concurrent update of the
     * access point ({@code OperationAborted}); they change nothing.
     *
     * @param times how many submissions
     */
    public synchronized void conflictNext(int times) {
        conflicts += times;
    }

    /** Returns the requests answered so far, in order. */
    public synchronized List<Call> calls() {
        return List.copyOf(calls);
    }

    /**
     * Returns a builder of an S3 Control client signed for {@code controlRegion} whose requests reach this server
     * (see the class comment), with the lab's dummy credentials; the caller builds and closes the client.
     *
     * @param controlRegion the region to sign for
     * @return the builder
     */
    public S3ControlClientBuilder clientBuilder(String controlRegion) {
        S3ControlEndpointProvider real = S3ControlEndpointProvider.defaultProvider();
        URI local = endpoint();
        return S3ControlClient.builder()
                .region(software.amazon.awssdk.regions.Region.of(controlRegion))
                .credentialsProvider(S3Regions.credentials())
                .endpointProvider(params -> real.resolveEndpoint(params).thenApply(e -> swapped(e, local)));
    }

    private static Endpoint swapped(Endpoint resolved, URI local) {
        URI url = resolved.url();
        return resolved.toBuilder()
                .url(URI.create(local.getScheme() + "://" + local.getAuthority()
                        + (url.getRawPath() == null ? "" : url.getRawPath())))
                .build();
    }

    @Override
    public void close() {
        server.stop();
    }

    @Override
    public String toString() {
        return "S3ControlStubs[" + endpoint() + ", access points " + accessPoints.keySet() + "]";
    }

    // ---- answering -----------------------------------------------------------------------------------------------

    private synchronized ResponseDefinition answer(Request request) {
        String region = signedRegion(request.getHeader("Authorization"));
        String accountId = request.containsHeader("x-amz-account-id") ? request.getHeader("x-amz-account-id") : null;
        Matcher m = PATH.matcher(request.getUrl().split("\\?")[0]);
        String arn = m.matches() ? URLDecoder.decode(m.group(1), StandardCharsets.UTF_8) : null;
        String method = request.getMethod().getName();
        List<Route> updates = List.of();
        ResponseDefinition response;
        Failure failure = failureFor(region);
        if (failure != null) {
            response = error(failure.status(), failure.code(), "the stand-in was told to fail " + region);
        } else if (arn == null) {
            response = error(404, "NotFound", "no such S3 Control resource: " + request.getUrl());
        } else if (accountId == null || !arn.contains(":" + accountId + ":")) {
            response = error(403, "AccessDenied", "x-amz-account-id " + accountId + " does not own " + arn);
        } else if (!accessPoints.containsKey(arn)) {
            response = error(404, "NoSuchMultiRegionAccessPoint", "The specified Multi-Region Access Point does not"
                    + " exist");
        } else if (method.equals("GET")) {
            response = aResponse().withStatus(200).withHeader("Content-Type", "application/xml")
                    .withBody(routesXml(arn, accessPoints.get(arn))).build();
        } else if (method.equals("PATCH")) {
            updates = parseUpdates(request.getBodyAsString());
            if (conflicts > 0) {
                conflicts--;
                response = error(409, "OperationAborted", "A conflicting conditional operation is currently in"
                        + " progress against this resource. Please try again.");
            } else {
                apply(arn, updates);
                response = aResponse().withStatus(200).build();
            }
        } else {
            response = error(405, "MethodNotAllowed", method + " is not allowed on routes");
        }
        calls.add(new Call(region, method, arn, accountId, response.getStatus(), updates));
        return response;
    }

    private Failure failureFor(String region) {
        Failure always = alwaysFailing.get(region);
        if (always != null) {
            return always;
        }
        Deque<Failure> q = nextFailures.get(region);
        return q == null ? null : q.poll();
    }

    private void apply(String arn, List<Route> updates) {
        List<Route> routes = accessPoints.get(arn);
        for (Route u : updates) {
            boolean found = false;
            for (int i = 0; i < routes.size(); i++) {
                Route r = routes.get(i);
                if (r.region().equals(u.region()) || (u.bucket() != null && u.bucket().equals(r.bucket()))) {
                    routes.set(i, new Route(r.bucket(), r.region(), u.dial()));
                    found = true;
                }
            }
            if (!found) {
                throw new IllegalArgumentException("route update " + u + " matches no route of " + arn);
            }
        }
    }

    private static String signedRegion(String authorization) {
        if (authorization == null) {
            return "unsigned";
        }
        Matcher m = SCOPE.matcher(authorization);
        return m.find() ? m.group(1) : "unsigned";
    }

    private static String routesXml(String arn, List<Route> routes) {
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append("<GetMultiRegionAccessPointRoutesResult xmlns=\"").append(NAMESPACE).append("\">")
                .append("<Mrap>").append(escape(arn)).append("</Mrap><Routes>");
        for (Route r : routes) {
            sb.append("<Route>");
            if (r.bucket() != null) {
                sb.append("<Bucket>").append(escape(r.bucket())).append("</Bucket>");
            }
            sb.append("<Region>").append(escape(r.region())).append("</Region>")
                    .append("<TrafficDialPercentage>").append(r.dial()).append("</TrafficDialPercentage></Route>");
        }
        return sb.append("</Routes></GetMultiRegionAccessPointRoutesResult>").toString();
    }

    private static List<Route> parseUpdates(String body) {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Element root = f.newDocumentBuilder()
                    .parse(new ByteArrayInputStream(body.getBytes(StandardCharsets.UTF_8))).getDocumentElement();
            NodeList nodes = root.getElementsByTagNameNS("*", "Route");
            List<Route> out = new ArrayList<>();
            for (int i = 0; i < nodes.getLength(); i++) {
                Element e = (Element) nodes.item(i);
                out.add(new Route(text(e, "Bucket"), text(e, "Region"),
                        Integer.parseInt(text(e, "TrafficDialPercentage"))));
            }
            return out;
        } catch (Exception e) {
            throw new IllegalArgumentException("not a SubmitMultiRegionAccessPointRoutesRequest body: " + body, e);
        }
    }

    private static String text(Element parent, String name) {
        NodeList n = parent.getElementsByTagNameNS("*", name);
        return n.getLength() == 0 ? null : n.item(0).getTextContent().trim();
    }

    private static ResponseDefinition error(int status, String code, String message) {
        String body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Code>" + code
                + "</Code><Message>" + escape(message) + "</Message></Error><RequestId>"
                + UUID.randomUUID().toString().substring(0, 16).toUpperCase(java.util.Locale.ROOT)
                + "</RequestId><HostId>latitude-testkit</HostId></ErrorResponse>";
        return aResponse().withStatus(status).withHeader("Content-Type", "application/xml").withBody(body).build();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** Answers every request from the stand-in's state. */
    private final class Transformer implements ResponseDefinitionTransformerV2 {
        private final String name = "latitude-s3-control-" + Integer.toHexString(System.identityHashCode(
                S3ControlStubs.this));

        @Override
        public String getName() {
            return name;
        }

        @Override
        public boolean applyGlobally() {
            return false;
        }

        @Override
        public ResponseDefinition transform(ServeEvent serveEvent) {
            try {
                return answer(serveEvent.getRequest());
            } catch (RuntimeException e) {
                return error(400, "MalformedXML", String.valueOf(e.getMessage()));
            }
        }
    }
}

package dev.latitude.bomcheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.File;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What a user's project that imports only {@code latitude-bom} gets on its test class path: one AWS SDK version and
 * one OpenTelemetry version, whatever the testkit's servers (DynamoDB Local) ask for.
 */
class SingleVersionTest {
    /** {@code .../<group path>/<artifact>/<version>/<artifact>-<version>.jar} in a Maven repository layout. */
    private static final Pattern JAR = Pattern.compile(".*[/\\\\](software[/\\\\]amazon[/\\\\]awssdk|io[/\\\\]opentelemetry)"
            + "[/\\\\]([^/\\\\]+)[/\\\\]([^/\\\\]+)[/\\\\]\\2-\\3\\.jar");

    @Test
    void oneAwsSdkVersionAndOneOpenTelemetryVersion() {
        Map<String, Set<String>> versions = new TreeMap<>();
        for (String entry : System.getProperty("java.class.path").split(Pattern.quote(File.pathSeparator))) {
            Matcher m = JAR.matcher(Path.of(entry).toString());
            if (m.matches()) {
                String family = m.group(1).startsWith("software") ? "software.amazon.awssdk" : "io.opentelemetry";
                String version = m.group(3);
                // OpenTelemetry's incubating and semconv artifacts carry their own -alpha line; the BOM aligns them too.
                if (family.equals("io.opentelemetry") && version.contains("alpha")) {
                    family = "io.opentelemetry (alpha)";
                }
                versions.computeIfAbsent(family, f -> new TreeSet<>()).add(m.group(2) + ":" + version);
            }
        }
        assertFalse(versions.getOrDefault("software.amazon.awssdk", Set.of()).isEmpty(),
                "no AWS SDK jar on the class path; the check would prove nothing: " + versions);
        versions.forEach((family, artifacts) -> {
            Set<String> distinct = new TreeSet<>();
            artifacts.forEach(a -> distinct.add(a.substring(a.indexOf(':') + 1)));
            assertEquals(1, distinct.size(), family + " comes in several versions: " + artifacts);
        });
    }
}

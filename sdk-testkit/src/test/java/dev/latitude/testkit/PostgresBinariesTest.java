package dev.latitude.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.LatitudeConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The order {@link PostgresBinaries} looks in, with fake install directories, and its platform names. */
class PostgresBinariesTest {
    @TempDir
    Path tmp;

    private final AtomicInteger bundleCalls = new AtomicInteger();

    private Supplier<Path> bundle() {
        return () -> {
            bundleCalls.incrementAndGet();
            return tmp.resolve("bundle/bin");
        };
    }

    private Path install(String name) throws IOException {
        Path bin = Files.createDirectories(tmp.resolve(name).resolve("bin"));
        for (String tool : PostgresBinaries.TOOLS) {
            Files.writeString(bin.resolve(tool), "#!/bin/sh\n");
            Files.setPosixFilePermissions(bin.resolve(tool), PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        return bin;
    }

    @Test
    void resolve_propertyNamingADirectory_usesItBeforeASystemInstall() throws IOException {
        Path chosen = install("chosen");
        Path system = install("system");

        assertThat(PostgresBinaries.resolve(chosen.toString(), List.of(system), bundle())).isEqualTo(chosen);
        assertThat(bundleCalls).hasValue(0);
    }

    @Test
    void resolve_propertyBundled_usesTheBundleEvenWithASystemInstall() throws IOException {
        Path system = install("system");

        assertThat(PostgresBinaries.resolve("bundled", List.of(system), bundle())).isEqualTo(tmp.resolve("bundle/bin"));
        assertThat(bundleCalls).hasValue(1);
    }

    @Test
    void resolve_noProperty_takesTheFirstSystemInstallThatHoldsTheTools() throws IOException {
        Path incomplete = Files.createDirectories(tmp.resolve("incomplete/bin"));
        Files.writeString(incomplete.resolve("postgres"), "");
        Path system = install("system");

        assertThat(PostgresBinaries.resolve(null, List.of(tmp.resolve("missing"), incomplete, system), bundle()))
                .isEqualTo(system);
        assertThat(PostgresBinaries.resolve(" ", List.of(system), bundle())).isEqualTo(system);
        assertThat(bundleCalls).hasValue(0);
    }

    @Test
    void resolve_noPropertyAndNoSystemInstall_fallsBackToTheBundle() {
        assertThat(PostgresBinaries.resolve(null, List.of(tmp.resolve("missing")), bundle()))
                .isEqualTo(tmp.resolve("bundle/bin"));
        assertThat(bundleCalls).hasValue(1);
    }

    @Test
    void resolve_propertyNamingADirectoryWithoutTheTools_failsNamingTheProperty() {
        assertThatThrownBy(() -> PostgresBinaries.resolve(tmp.toString(), List.of(), bundle()))
                .isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("latitude.postgres.bin")
                .hasMessageContaining(tmp.toString())
                .hasMessageContaining("bundled");
        assertThat(bundleCalls).hasValue(0);
    }

    @Test
    void resourceName_namesTheZonkyBundleOfEachSupportedPlatform() {
        assertThat(PostgresBinaries.resourceName("Linux", "amd64")).isEqualTo("postgres-linux-x86_64.txz");
        assertThat(PostgresBinaries.resourceName("Linux", "aarch64")).isEqualTo("postgres-linux-arm_64.txz");
        assertThat(PostgresBinaries.resourceName("Mac OS X", "x86_64")).isEqualTo("postgres-darwin-x86_64.txz");
        assertThat(PostgresBinaries.resourceName("Mac OS X", "aarch64")).isEqualTo("postgres-darwin-arm_64.txz");
    }

    @Test
    void resourceName_unsupportedPlatform_failsOnceNamingThePropertyToSet() {
        assertThatThrownBy(() -> PostgresBinaries.resourceName("Windows 11", "amd64"))
                .isInstanceOf(LatitudeConfigException.class)
                .satisfies(e -> assertThat(((LatitudeConfigException) e).setting()).isEqualTo("latitude.postgres.bin"))
                .hasMessageContaining("Windows 11 on amd64")
                .hasMessageContaining("-Dlatitude.postgres.bin=<its bin directory>");
        assertThatThrownBy(() -> PostgresBinaries.resourceName("Linux", "ppc64le"))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("Linux on ppc64le");
    }

    @Test
    void bundled_onThisPlatform_isOnTheClassPathThroughTheTestkitsProfileAndHoldsTheTools() {
        Path bin = PostgresBinaries.bundled();

        assertThat(PostgresBinaries.holdsTools(bin)).isTrue();
        assertThat(PostgresBundle.verify(bin.getParent())).isTrue();
        assertThat(bin.getParent().getParent()).isEqualTo(PostgresBinaries.cacheDir());
        assertThat(bin.getParent().getFileName().toString()).matches("\\d+\\.\\d+\\.\\d+-postgres-.*-[0-9a-f]+");
    }
}

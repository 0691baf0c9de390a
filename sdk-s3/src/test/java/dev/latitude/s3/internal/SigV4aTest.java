package dev.latitude.s3.internal;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.latitude.LatitudeConfigException;
import org.junit.jupiter.api.Test;

class SigV4aTest {
    @Test
    void check_passesWithHttpAuthAwsCrtOnTheClassPath() {
        assertThatCode(() -> SigV4a.check("mrap.arn")).doesNotThrowAnyException();
    }

    @Test
    void check_withoutTheCrtModule_namesTheDependencyToAdd() {
        assertThatThrownBy(() -> SigV4a.check("mrap.arn", name -> !name.contains("HttpAuthAwsCrt")))
                .isInstanceOf(LatitudeConfigException.class)
                .hasMessageContaining("software.amazon.awssdk:http-auth-aws-crt")
                .hasMessageStartingWith("mrap.arn");
        assertThatThrownBy(() -> SigV4a.check("mrap.arn", name -> !name.contains(".crt.auth.")))
                .isInstanceOf(LatitudeConfigException.class).hasMessageContaining("aws-crt");
    }
}

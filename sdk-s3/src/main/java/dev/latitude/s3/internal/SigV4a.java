package dev.latitude.s3.internal;

import dev.latitude.LatitudeConfigException;
import java.util.List;
import java.util.function.Predicate;

/**
 * Checks, when a Multi-Region Access Point is configured, that requests to it can be signed: MRAP requests need
 * SigV4a, which the AWS SDK signs only with {@code software.amazon.awssdk:http-auth-aws-crt} (and the AWS CRT it
 * brings) on the class path. Without it the SDK would fail on the first request; this fails at build time instead,
 * naming the dependency.
 */
public final class SigV4a {
    /** The module's marker class, and the CRT signer it loads. */
    private static final List<String> NEEDED = List.of(
            "software.amazon.awssdk.http.auth.aws.crt.HttpAuthAwsCrt",
            "software.amazon.awssdk.crt.auth.signing.AwsSigner");

    private SigV4a() {
    }

    /**
     * Checks the class path this class was loaded from.
     *
     * @param setting the setting that asked for SigV4a, for the error
     * @throws LatitudeConfigException if a class SigV4a signing needs is missing
     */
    public static void check(String setting) {
        check(setting, SigV4a::present);
    }

    /**
     * Checks with {@code present} telling which classes exist.
     *
     * @param setting the setting that asked for SigV4a, for the error
     * @param present whether a class of that name can be loaded
     * @throws LatitudeConfigException if a class SigV4a signing needs is missing
     */
    static void check(String setting, Predicate<String> present) {
        for (String name : NEEDED) {
            if (!present.test(name)) {
                throw new LatitudeConfigException(setting, "requests to a Multi-Region Access Point are signed with"
                        + " SigV4a, which needs software.amazon.awssdk:http-auth-aws-crt on the class path (class "
                        + name + " is missing); add that dependency, at the AWS SDK BOM's version, and do not exclude"
                        + " the software.amazon.awssdk.crt:aws-crt it brings");
            }
        }
    }

    private static boolean present(String name) {
        try {
            Class.forName(name, false, SigV4a.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }
}

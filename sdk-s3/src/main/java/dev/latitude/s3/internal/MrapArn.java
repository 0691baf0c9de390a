package dev.latitude.s3.internal;

import dev.latitude.LatitudeConfigException;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Multi-Region Access Point ARN, {@code arn:PARTITION:s3::ACCOUNT:accesspoint/ALIAS.mrap}, checked: an MRAP is
 * global, so its ARN has no region; the account is twelve digits; the alias is lowercase letters and digits ending in
 * {@code .mrap}.
 *
 * @param partition the AWS partition, such as {@code aws}
 * @param accountId the owning account
 * @param alias the access point's alias, such as {@code mfzwi23gnjvgw.mrap}
 */
public record MrapArn(String partition, String accountId, String alias) {
    private static final Pattern ARN = Pattern.compile(
            "arn:(aws|aws-cn|aws-us-gov):s3:([^:]*):([^:]*):accesspoint/([^/:]+)");
    private static final Pattern ACCOUNT = Pattern.compile("\\d{12}");
    private static final Pattern ALIAS = Pattern.compile("[a-z0-9]{1,63}\\.mrap");
    private static final String EXAMPLE = "arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap";

    /** Checks the parts; use {@link #parse(String, String)} for text. */
    public MrapArn {
        Objects.requireNonNull(partition, "partition");
        Objects.requireNonNull(accountId, "accountId");
        Objects.requireNonNull(alias, "alias");
    }

    /**
     * Parses and checks an MRAP ARN.
     *
     * @param setting the name of the setting the ARN came from, for the error
     * @param arn the ARN text
     * @return the ARN
     * @throws LatitudeConfigException naming {@code setting} if the text is not a Multi-Region Access Point ARN
     */
    public static MrapArn parse(String setting, String arn) {
        if (arn == null || arn.isBlank()) {
            throw new LatitudeConfigException(setting, "is empty; give the Multi-Region Access Point's ARN, such as "
                    + EXAMPLE + " (S3 console: Multi-Region Access Points, Properties)");
        }
        Matcher m = ARN.matcher(arn.trim());
        if (!m.matches()) {
            throw new LatitudeConfigException(setting, "'" + arn + "' is not a Multi-Region Access Point ARN; it has"
                    + " the form arn:aws:s3::ACCOUNT:accesspoint/ALIAS.mrap, such as " + EXAMPLE);
        }
        if (!m.group(2).isEmpty()) {
            throw new LatitudeConfigException(setting, "'" + arn + "' names region " + m.group(2) + ", but a"
                    + " Multi-Region Access Point is global and its ARN has none (arn:aws:s3::ACCOUNT:...); a"
                    + " regional access point cannot be used as an MRAP");
        }
        if (!ACCOUNT.matcher(m.group(3)).matches()) {
            throw new LatitudeConfigException(setting, "'" + arn + "' has account '" + m.group(3) + "'; an account id"
                    + " is twelve digits, such as 123456789012");
        }
        if (!ALIAS.matcher(m.group(4)).matches()) {
            throw new LatitudeConfigException(setting, "'" + arn + "' has access point '" + m.group(4) + "'; an MRAP"
                    + " is named by its alias, lowercase letters and digits ending in .mrap, such as"
                    + " mfzwi23gnjvgw.mrap (not by the name it was created with)");
        }
        return new MrapArn(m.group(1), m.group(3), m.group(4));
    }

    /** Returns the ARN text. */
    @Override
    public String toString() {
        return "arn:" + partition + ":s3::" + accountId + ":accesspoint/" + alias;
    }
}

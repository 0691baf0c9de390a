package dev.latitude.samples.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Keeps the Markdown honest, in two ways.
 *
 * <p><b>Snippets.</b> Every {@code ```java} block in {@code README.md} and {@code docs/*.md} must be announced by a
 * line {@code <!-- snippet: NAME -->} and be exactly the text between {@code // snippet: NAME} and
 * {@code // end snippet} in a test source of some module ({@code src/test/java}), less its common indentation. The
 * sources compile with the build and the tests around them run, so a snippet that no longer compiles or works fails
 * the build, and so does a Markdown block edited by hand.
 *
 * <p><b>Figures.</b> A figure quoted outside {@code docs/BENCHMARKS.md} is written
 * {@code <!--fig NAME.metric-->value unit<!--/fig-->} (or {@code <!--num NAME.metric-->value<!--/num-->} for the
 * number alone) and must equal the line {@code NAME.metric=value unit} of {@code docs/BENCHMARKS.md}, which
 * {@code benchmarks/run.sh} writes; figures are not typed by hand.
 *
 * <p>{@code -Dlatitude.docs.update=true} rewrites the Markdown from the sources and BENCHMARKS.md instead of
 * failing ({@code benchmarks/run.sh all} does so after a run).
 */
class DocsCheckTest {
    private static final Pattern SNIPPET_MARK = Pattern.compile("^<!-- snippet: ([a-z0-9-]+) -->$");
    private static final Pattern SOURCE_START = Pattern.compile("^\\s*// snippet: ([a-z0-9-]+)\\s*$");
    private static final Pattern SOURCE_END = Pattern.compile("^\\s*// end snippet\\s*$");
    private static final Pattern FIGURE_LINE = Pattern.compile("^([a-z0-9_]+\\.[a-z0-9_]+)=(\\S+)(?: (.+))?$");
    private static final Pattern FIGURE = Pattern.compile("<!--(fig|num) ([a-z0-9_]+\\.[a-z0-9_]+)-->(.*?)<!--/\\1-->");
    private static final boolean UPDATE = Boolean.getBoolean("latitude.docs.update");
    private static final String FIX = "run `mvn -q -pl samples -am test -Dtest=DocsCheckTest"
            + " -Dsurefire.failIfNoSpecifiedTests=false -Dlatitude.docs.update=true` to rewrite the Markdown";

    private final Path root = repositoryRoot();

    @Test
    void everyJavaBlockIsATestedSnippet() throws IOException {
        Map<String, String> snippets = snippetsInTestSources();
        List<String> problems = new ArrayList<>();
        for (Path md : markdownFiles()) {
            List<String> lines = Files.readAllLines(md, StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                out.add(line);
                if (!line.startsWith("```java")) {
                    continue;
                }
                String where = root.relativize(md) + ":" + (i + 1);
                int end = i + 1;
                while (end < lines.size() && !lines.get(end).startsWith("```")) {
                    end++;
                }
                String block = String.join("\n", lines.subList(i + 1, Math.min(end, lines.size())));
                Matcher mark = i > 0 ? SNIPPET_MARK.matcher(lines.get(i - 1)) : null;
                if (mark == null || !mark.matches()) {
                    problems.add(where + ": a ```java block without a `<!-- snippet: NAME -->` line above it; put the"
                            + " code in a test between `// snippet: NAME` and `// end snippet`");
                } else if (!snippets.containsKey(mark.group(1))) {
                    problems.add(where + ": snippet '" + mark.group(1) + "' is in no test source");
                } else if (!snippets.get(mark.group(1)).equals(block)) {
                    if (UPDATE) {
                        out.add(snippets.get(mark.group(1)));
                        i = end - 1;
                        continue;
                    }
                    problems.add(where + ": snippet '" + mark.group(1) + "' differs from its test source; " + FIX);
                }
                out.addAll(lines.subList(i + 1, Math.min(end, lines.size())));
                i = end - 1;
            }
            rewriteIfUpdating(md, lines, out);
        }
        assertThat(problems).as("Markdown snippets").isEmpty();
    }

    @Test
    void figuresComeFromTheLastBenchmarkRun() throws IOException {
        Map<String, String[]> figures = new LinkedHashMap<>();
        for (String line : Files.readAllLines(root.resolve("docs/BENCHMARKS.md"), StandardCharsets.UTF_8)) {
            Matcher m = FIGURE_LINE.matcher(line);
            if (m.matches()) {
                figures.put(m.group(1), new String[] {m.group(2), m.group(3)});
            }
        }
        assertThat(figures).as("figure lines in docs/BENCHMARKS.md").isNotEmpty();
        List<String> problems = new ArrayList<>();
        for (Path md : markdownFiles()) {
            if (md.getFileName().toString().equals("BENCHMARKS.md")) {
                continue;
            }
            String text = Files.readString(md, StandardCharsets.UTF_8);
            Matcher m = FIGURE.matcher(text);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String[] figure = figures.get(m.group(2));
                if (figure == null) {
                    problems.add(root.relativize(md) + ": figure " + m.group(2) + " is not in docs/BENCHMARKS.md");
                    m.appendReplacement(out, Matcher.quoteReplacement(m.group()));
                    continue;
                }
                String expected = m.group(1).equals("num") || figure[1] == null ? figure[0]
                        : figure[0] + " " + figure[1];
                if (!expected.equals(m.group(3)) && !UPDATE) {
                    problems.add(root.relativize(md) + ": figure " + m.group(2) + " says '" + m.group(3)
                            + "', docs/BENCHMARKS.md says '" + expected + "'; " + FIX);
                }
                m.appendReplacement(out, Matcher.quoteReplacement(
                        "<!--" + m.group(1) + " " + m.group(2) + "-->" + expected + "<!--/" + m.group(1) + "-->"));
            }
            m.appendTail(out);
            if (UPDATE && !out.toString().equals(text)) {
                Files.writeString(md, out.toString(), StandardCharsets.UTF_8);
            }
        }
        assertThat(problems).as("figures in the docs").isEmpty();
    }

    /** Reads every {@code // snippet: NAME} region of the modules' test sources, dedented. */
    private Map<String, String> snippetsInTestSources() throws IOException {
        Map<String, String> snippets = new LinkedHashMap<>();
        List<Path> sources;
        try (Stream<Path> modules = Files.list(root)) {
            sources = modules.map(m -> m.resolve("src/test/java")).filter(Files::isDirectory)
                    .flatMap(DocsCheckTest::javaFiles).collect(Collectors.toList());
        }
        for (Path source : sources) {
            List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                Matcher start = SOURCE_START.matcher(lines.get(i));
                if (!start.matches()) {
                    continue;
                }
                int end = i + 1;
                while (end < lines.size() && !SOURCE_END.matcher(lines.get(end)).matches()) {
                    end++;
                }
                assertThat(end).as("`// end snippet` after %s:%d", source, i + 1).isLessThan(lines.size());
                String previous = snippets.put(start.group(1), dedent(lines.subList(i + 1, end)));
                assertThat(previous).as("snippet '%s' defined twice (again in %s)", start.group(1), source).isNull();
                i = end;
            }
        }
        return snippets;
    }

    private static Stream<Path> javaFiles(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(p -> p.toString().endsWith(".java")).collect(Collectors.toList()).stream();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String dedent(List<String> lines) {
        int indent = lines.stream().filter(l -> !l.isBlank()).mapToInt(l -> l.length() - l.stripLeading().length())
                .min().orElse(0);
        return lines.stream().map(l -> l.isBlank() ? "" : l.substring(indent)).collect(Collectors.joining("\n"));
    }

    private List<Path> markdownFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
        }
        return files;
    }

    private static void rewriteIfUpdating(Path md, List<String> before, List<String> after) throws IOException {
        if (UPDATE && !before.equals(after)) {
            Files.writeString(md, String.join("\n", after) + "\n", StandardCharsets.UTF_8);
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("README.md"))) {
            dir = dir.getParent();
        }
        assertThat(dir).as("the repository root (a directory with README.md) above the working directory").isNotNull();
        return dir;
    }
}

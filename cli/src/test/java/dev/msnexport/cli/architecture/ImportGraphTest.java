package dev.msnexport.cli.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tree's shape, from its sources: which module imports which (main code), which file imports
 * which, and the size rules a newcomer relies on. Writes both graphs as Graphviz files to {@code
 * cli/target/import-graph/} ({@code modules.dot}, {@code files.dot}) and prints the module graph.
 *
 * <p>Rules: a module's main code imports only its own classes and those of modules its pom declares
 * (directly or through them), so no module imports one above it; the module graph has no cycle;
 * trt-plugins and onnx-custom-ops' native folders hold no Java of trt-plugins (native only); every
 * CLI command is at most {@value #COMMAND_LINES} lines and every main class at most {@value
 * #CLASS_LINES}.
 */
class ImportGraphTest {
  static final int COMMAND_LINES = 150;
  static final int CLASS_LINES = 400;
  static final Pattern IMPORT =
      Pattern.compile(
          "^import\\s+(?:static\\s+)?(dev\\.msnexport\\.[\\w.]+?)(\\.\\*)?;", Pattern.MULTILINE);
  static final Pattern DEPENDENCY =
      Pattern.compile("<dependency>(.*?)</dependency>", Pattern.DOTALL);
  static final Pattern OURS =
      Pattern.compile("<groupId>dev\\.msnexport</groupId>\\s*<artifactId>([\\w-]+)</artifactId>");

  static Path root;

  /** module -> its main source files (path relative to the module), by fully qualified class. */
  static final Map<String, String> classToModule = new TreeMap<>();

  static final Map<String, Path> classToFile = new TreeMap<>();
  static final Map<String, Set<String>> declared = new TreeMap<>();

  @BeforeAll
  static void scan() throws IOException {
    root = Path.of("").toAbsolutePath().getParent();
    assertTrue(Files.isRegularFile(root.resolve("pom.xml")), "the repository root from " + root);
    for (String module : modules()) {
      Path src = root.resolve(module).resolve("src/main/java");
      String pom = Files.readString(root.resolve(module).resolve("pom.xml"));
      Set<String> deps = new TreeSet<>();
      Matcher m = DEPENDENCY.matcher(pom);
      while (m.find()) {
        Matcher ours = OURS.matcher(m.group(1));
        if (ours.find() && !m.group(1).contains("<scope>test</scope>")) {
          deps.add(ours.group(1));
        }
      }
      declared.put(module, deps);
      if (!Files.isDirectory(src)) {
        continue;
      }
      try (Stream<Path> s = Files.walk(src)) {
        for (Path f : s.filter(p -> p.toString().endsWith(".java")).toList()) {
          String fqcn = src.relativize(f).toString().replace('/', '.').replaceAll("\\.java$", "");
          classToModule.put(fqcn, module);
          classToFile.put(fqcn, f);
        }
      }
    }
  }

  static List<String> modules() throws IOException {
    String pom = Files.readString(root.resolve("pom.xml"));
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile("<module>([\\w-]+)</module>").matcher(pom);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  /** The modules a module may import: its declared dependencies and theirs. */
  static Set<String> allowed(String module) {
    Set<String> seen = new TreeSet<>();
    List<String> todo = new ArrayList<>(List.of(module));
    while (!todo.isEmpty()) {
      String m = todo.remove(todo.size() - 1);
      if (seen.add(m)) {
        todo.addAll(declared.getOrDefault(m, Set.of()));
      }
    }
    return seen;
  }

  /** The module of an imported name: a class, a nested class or static member, or a package. */
  static Set<String> targets(String name, boolean wildcard) {
    Set<String> out = new TreeSet<>();
    for (String n = name; n.contains("."); n = n.substring(0, n.lastIndexOf('.'))) {
      if (classToModule.containsKey(n)) {
        out.add(n);
        return out;
      }
    }
    if (wildcard) {
      for (String c : classToModule.keySet()) {
        if (c.startsWith(name + ".") && c.indexOf('.', name.length() + 1) < 0) {
          out.add(c);
        }
      }
    }
    return out;
  }

  @Test
  void noModuleImportsOneAboveIt() throws IOException {
    Map<String, Set<String>> moduleEdges = new TreeMap<>();
    StringBuilder files = new StringBuilder("digraph files {\n  rankdir=LR;\n");
    List<String> violations = new ArrayList<>();
    for (Map.Entry<String, Path> e : classToFile.entrySet()) {
      String from = classToModule.get(e.getKey());
      Matcher m = IMPORT.matcher(Files.readString(e.getValue()));
      while (m.find()) {
        for (String target : targets(m.group(1), m.group(2) != null)) {
          String to = classToModule.get(target);
          files.append(String.format("  \"%s\" -> \"%s\";%n", e.getKey(), target));
          if (!to.equals(from)) {
            moduleEdges.computeIfAbsent(from, k -> new TreeSet<>()).add(to);
            if (!allowed(from).contains(to)) {
              violations.add(e.getKey() + " (" + from + ") imports " + target + " (" + to + ")");
            }
          }
        }
      }
    }
    Path out = root.resolve("cli/target/import-graph");
    Files.createDirectories(out);
    Files.writeString(out.resolve("files.dot"), files.append("}\n"));
    StringBuilder mods = new StringBuilder("digraph modules {\n");
    System.out.println("module -> modules its main code imports:");
    for (Map.Entry<String, Set<String>> e : moduleEdges.entrySet()) {
      System.out.println("  " + e.getKey() + " -> " + String.join(", ", e.getValue()));
      for (String to : e.getValue()) {
        mods.append(String.format("  \"%s\" -> \"%s\";%n", e.getKey(), to));
      }
    }
    Files.writeString(out.resolve("modules.dot"), mods.append("}\n"));
    assertEquals(
        List.of(), violations, "imports of modules that are not (transitive) dependencies");
    for (String module : moduleEdges.keySet()) {
      for (String to : moduleEdges.get(module)) {
        assertTrue(!allowed(to).contains(module), "cycle between modules " + module + " and " + to);
      }
    }
  }

  @Test
  void nativeModulesHoldNoJavaOfTheirRuntime() throws IOException {
    try (Stream<Path> s = Files.walk(root.resolve("trt-plugins"))) {
      List<Path> java =
          s.filter(p -> p.toString().endsWith(".java") && !p.toString().contains("/target/"))
              .toList();
      assertEquals(List.of(), java, "trt-plugins is native only; its Java runtime is trt-runtime");
    }
  }

  @Test
  void commandsAndClassesStaySmall() throws IOException {
    List<String> tooLong = new ArrayList<>();
    for (Map.Entry<String, Path> e : classToFile.entrySet()) {
      List<String> lines = Files.readAllLines(e.getValue());
      boolean command = lines.stream().anyMatch(l -> l.startsWith("@Command("));
      int limit = command ? COMMAND_LINES : CLASS_LINES;
      if (lines.size() > limit) {
        tooLong.add(e.getKey() + ": " + lines.size() + " lines (limit " + limit + ")");
      }
    }
    assertEquals(List.of(), tooLong, "classes over their size limit");
  }
}

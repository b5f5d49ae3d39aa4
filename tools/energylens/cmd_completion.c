/* cmd_completion.c - `energylens completion bash|zsh` (hidden): prints a
 * shell completion script generated from the command table (main.c) and each
 * command's own --help text, so the completions cannot drift from the
 * options the commands accept. `make` writes both scripts into
 * build/completion/ and `make install` installs them.
 *
 * Each command's help is read by running this executable again
 * (/proc/self/exe COMMAND --help) with stdout on a pipe. An option is a
 * "--name" token (and a "-x," short form right before it); it takes an
 * argument when the help shows one after it ("--seed N", "--format
 * text|json"); "a|b|c" arguments, --method, --template and --schema complete
 * their values, every other argument and the positional arguments complete
 * file names. */
#define _GNU_SOURCE
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OPTS 96

struct opt {
    char name[48];     /* "--seed" */
    char shortname[4]; /* "-o" or "" */
    int has_arg;
    int files;        /* the argument names a file or directory */
    char values[256]; /* space-separated choices, "" = files */
    char desc[160];
};

struct cmd_opts {
    struct opt o[MAX_OPTS];
    size_t n;
};

/* Runs `/proc/self/exe name --help` and returns its stdout (malloc'd). */
static char *help_text(const char *name)
{
    int fd[2];
    if (pipe(fd) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl("/proc/self/exe", "energylens", name, "--help", (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && len + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            } else {
                buf = nb;
                cap *= 2;
            }
        }
        char sink[4096];
        ssize_t r = buf ? read(fd[0], buf + len, cap - len - 1) : read(fd[0], sink, sizeof sink);
        if (r <= 0)
            break;
        if (buf)
            len += (size_t)r;
    }
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (buf)
        buf[len] = '\0';
    return buf;
}

static void list_join(char *dst, size_t len, const char *const *names)
{
    dst[0] = '\0';
    size_t off = 0;
    for (size_t k = 0; names && names[k]; k++) {
        int w = snprintf(dst + off, len - off, "%s%s", k ? " " : "", names[k]);
        if (w < 0 || (size_t)w >= len - off)
            break;
        off += (size_t)w;
    }
}

/* Keeps printable characters a shell quote or a zsh spec can hold. */
static void clean_desc(char *dst, size_t len, const char *src, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < len; i++) {
        char c = src[i];
        if (strchr("'\"`$\\[]:", c) || !isprint((unsigned char)c))
            c = ' ';
        if (c == ' ' && (o == 0 || dst[o - 1] == ' '))
            continue;
        dst[o++] = c;
    }
    while (o > 0 && dst[o - 1] == ' ')
        o--;
    dst[o] = '\0';
}

static struct opt *find_opt(struct cmd_opts *c, const char *name)
{
    for (size_t k = 0; k < c->n; k++)
        if (strcmp(c->o[k].name, name) == 0)
            return &c->o[k];
    return NULL;
}

static void parse_line(struct cmd_opts *c, const char *line, size_t n)
{
    char pending_short[4] = "";
    size_t indent = 0;
    while (indent < n && line[indent] == ' ')
        indent++;
    for (size_t i = indent; i < n; i++) {
        /* Options open a line or a column ("--tp SPEC  --pp SPEC", "-o, --output"),
         * never a sentence ("with no --max-evals the budget"). */
        int start = i == indent ||
                    (i >= 2 && line[i - 1] == ' ' && (line[i - 2] == ' ' || line[i - 2] == ','));
        if (!start || line[i] != '-')
            continue;
        if (i + 1 < n && isalpha((unsigned char)line[i + 1]) &&
            (i + 2 == n || line[i + 2] == ',' || line[i + 2] == ' ')) {
            if (i + 2 < n && line[i + 2] == ',') {
                /* "-x," short form announcing the long one that follows. */
                pending_short[0] = '-';
                pending_short[1] = line[i + 1];
                pending_short[2] = '\0';
                continue;
            }
            /* A short option on its own ("-o DIR"): handled as a name. */
        } else if (i + 2 >= n || line[i + 1] != '-' || !islower((unsigned char)line[i + 2]))
            continue;
        size_t j = i + 2; /* past "-o" or "--" */
        if (line[i + 1] == '-')
            while (j < n && (islower((unsigned char)line[j]) || isdigit((unsigned char)line[j]) ||
                             line[j] == '-'))
                j++;
        if (j - i >= sizeof c->o[0].name)
            continue;
        char name[48];
        memcpy(name, line + i, j - i);
        name[j - i] = '\0';
        struct opt *o = find_opt(c, name);
        int is_new = o == NULL;
        if (is_new) {
            if (c->n >= MAX_OPTS)
                return;
            o = &c->o[c->n++];
            memset(o, 0, sizeof *o);
            snprintf(o->name, sizeof o->name, "%s", name);
        }
        if (pending_short[0] && !o->shortname[0])
            snprintf(o->shortname, sizeof o->shortname, "%s", pending_short);
        pending_short[0] = '\0';
        /* The argument: one space, then a word in capitals or a|b|c. */
        size_t k = j, argend = j;
        if (k + 1 < n && (line[k] == ' ' || line[k] == '=') && line[k + 1] != ' ' &&
            line[k + 1] != '-') {
            size_t a = k + 1, e = a;
            while (e < n && line[e] != ' ')
                e++;
            int caps = isupper((unsigned char)line[a]) ||
                       (line[a] == '\'' && a + 1 < e && isupper((unsigned char)line[a + 1]));
            int bars = memchr(line + a, '|', e - a) != NULL;
            if (caps || bars) {
                o->has_arg = 1;
                argend = e;
                static const char *const filewords[] = {"FILE", "DIR",   "PATH", ".json",
                                                        ".csv", ".yaml", ".html"};
                for (size_t q = 0; q < sizeof filewords / sizeof filewords[0]; q++)
                    if (memmem(line + a, e - a, filewords[q], strlen(filewords[q])))
                        o->files = 1;
                if (bars && !caps && !o->values[0]) {
                    size_t w = 0;
                    for (size_t q = a; q < e && w + 1 < sizeof o->values; q++)
                        o->values[w++] = (char)(line[q] == '|' ? ' ' : line[q]);
                    o->values[w] = '\0';
                }
            }
        }
        /* A description follows an option that opens its line. */
        if (is_new && i <= indent + 4 && !o->desc[0]) {
            size_t d = argend;
            while (d < n && line[d] == ' ')
                d++;
            if (d > argend + 1 && d < n && line[d] != '-')
                clean_desc(o->desc, sizeof o->desc, line + d, n - d);
        }
        i = j;
    }
}

static void collect(const char *name, struct cmd_opts *c)
{
    memset(c, 0, sizeof *c);
    char *text = help_text(name);
    if (!text)
        return;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        parse_line(c, p, n);
        p += n + (nl ? 1 : 0);
    }
    free(text);
    /* Values the library knows (the help texts spell them out in prose). */
    static const char *const schemas[] = {"canonical", "mlenergy", "tokenpowerbench", "wilkins",
                                          NULL};
    for (size_t k = 0; k < c->n; k++) {
        struct opt *o = &c->o[k];
        if (!o->has_arg)
            continue;
        if (strcmp(o->name, "--method") == 0)
            list_join(o->values, sizeof o->values, el_method_names());
        else if (strcmp(o->name, "--template") == 0)
            list_join(o->values, sizeof o->values, el_template_names());
        else if (strcmp(o->name, "--schema") == 0)
            list_join(o->values, sizeof o->values, schemas);
    }
}

static void print_bash(struct cmd_opts *all)
{
    printf("# bash completion for energylens (generated by `energylens completion bash`\n"
           "# from the command table and each command's --help; energylens %s)\n"
           "_energylens() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    COMPREPLY=()\n"
           "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
           "        COMPREPLY=($(compgen -W \"",
           EL_VERSION_STRING);
    int first = 1;
    for (size_t i = 0; i < cli_ncommands; i++)
        if (cli_commands[i].summary) {
            printf("%s%s", first ? "" : " ", cli_commands[i].name);
            first = 0;
        }
    printf(" --help --version\" -- \"$cur\"))\n"
           "        return 0\n"
           "    fi\n"
           "    local opts=\"\" argopts=\"\"\n"
           "    case \"${COMP_WORDS[1]}\" in\n");
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (!cli_commands[i].summary)
            continue;
        struct cmd_opts *c = &all[i];
        printf("    %s)\n        opts=\"", cli_commands[i].name);
        for (size_t k = 0; k < c->n; k++)
            printf("%s%s%s%s", k ? " " : "", c->o[k].shortname, c->o[k].shortname[0] ? " " : "",
                   c->o[k].name);
        printf("\"\n        argopts=\" ");
        for (size_t k = 0; k < c->n; k++)
            if (c->o[k].has_arg)
                printf("%s%s%s ", c->o[k].shortname, c->o[k].shortname[0] ? " " : "", c->o[k].name);
        printf("\"\n        case \"$prev\" in\n");
        for (size_t k = 0; k < c->n; k++)
            if (c->o[k].has_arg && c->o[k].values[0])
                printf("        %s) COMPREPLY=($(compgen -W \"%s\" -- \"$cur\")); return 0 ;;\n",
                       c->o[k].name, c->o[k].values);
        printf("        esac\n        ;;\n");
    }
    printf("    esac\n"
           "    # After an option that takes a value, or for a positional argument:\n"
           "    # nothing here, so complete -o default falls back to file names.\n"
           "    case \"$argopts\" in *\" $prev \"*) return 0 ;; esac\n"
           "    case \"$cur\" in\n"
           "    -*) COMPREPLY=($(compgen -W \"$opts --help\" -- \"$cur\")) ;;\n"
           "    esac\n"
           "    return 0\n"
           "}\n"
           "complete -o default -F _energylens energylens\n");
}

static void print_zsh(struct cmd_opts *all)
{
    printf("#compdef energylens\n"
           "# zsh completion for energylens (generated by `energylens completion zsh`\n"
           "# from the command table and each command's --help; energylens %s)\n"
           "_energylens() {\n"
           "    local -a commands\n"
           "    commands=(\n",
           EL_VERSION_STRING);
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (!cli_commands[i].summary)
            continue;
        char d[160];
        clean_desc(d, sizeof d, cli_commands[i].summary, strlen(cli_commands[i].summary));
        printf("        '%s:%s'\n", cli_commands[i].name, d);
    }
    printf("    )\n"
           "    if (( CURRENT == 2 )); then\n"
           "        _describe -t commands 'energylens command' commands\n"
           "        return\n"
           "    fi\n"
           "    local cmd=${words[2]}\n"
           "    shift words\n"
           "    (( CURRENT-- ))\n"
           "    case $cmd in\n");
    for (size_t i = 0; i < cli_ncommands; i++) {
        if (!cli_commands[i].summary)
            continue;
        struct cmd_opts *c = &all[i];
        printf("    %s)\n        _arguments -S \\\n", cli_commands[i].name);
        printf("            '(- *)--help[describe the options]' \\\n");
        for (size_t k = 0; k < c->n; k++) {
            const struct opt *o = &c->o[k];
            if (strcmp(o->name, "--help") == 0)
                continue;
            char action[300];
            if (!o->has_arg)
                action[0] = '\0';
            else if (o->values[0])
                snprintf(action, sizeof action, ":value:(%s)", o->values);
            else if (o->files)
                snprintf(action, sizeof action, ":file:_files");
            else
                snprintf(action, sizeof action, ":value: ");
            if (o->shortname[0])
                printf("            '(%s %s)'{%s,%s}'[%s]%s' \\\n", o->shortname, o->name,
                       o->shortname, o->name, o->desc, action);
            else
                printf("            '%s[%s]%s' \\\n", o->name, o->desc, action);
        }
        printf("            '*:file:_files'\n        ;;\n");
    }
    printf("    esac\n"
           "}\n"
           "_energylens \"$@\"\n");
}

int cmd_completion(int argc, char **argv)
{
    const char *cmd = "completion";
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: energylens completion bash|zsh\n\n"
               "Prints a shell completion script generated from the command table and each\n"
               "command's --help. make install puts them where bash-completion and zsh look.\n");
        return CLI_OK;
    }
    if (argc != 2 || (strcmp(argv[1], "bash") != 0 && strcmp(argv[1], "zsh") != 0))
        return cli_usage_error(cmd, "expected 'bash' or 'zsh'");
    struct cmd_opts *all = calloc(cli_ncommands, sizeof *all);
    if (!all)
        return cli_fail(cmd, EL_ERR_NOMEM, NULL);
    for (size_t i = 0; i < cli_ncommands; i++)
        if (cli_commands[i].summary)
            collect(cli_commands[i].name, &all[i]);
    fflush(stdout);
    if (strcmp(argv[1], "bash") == 0)
        print_bash(all);
    else
        print_zsh(all);
    free(all);
    return CLI_OK;
}

/* libyara (Debian libyara-dev; libyara9 in the appliance) for yara_load,
 * yara_destroy and internal_yara_scan (daemon/Core/Yara.swift).  Small
 * helpers keep YARA's macros and unions out of Swift. */
#include <stdio.h>
#include <string.h>
#include <yara.h>

/* Collects compiler errors as "line N: message" lines. */
struct guestfs_yara_messages {
    char text[4096];
    int errors;
};

static inline void guestfs_yara_compiler_message(int level, const char *file, int line, const YR_RULE *rule,
                                                 const char *message, void *data) {
    struct guestfs_yara_messages *m = data;
    size_t used;
    (void) file; (void) rule;
    if (level != YARA_ERROR_LEVEL_ERROR) return;
    m->errors++;
    used = strlen(m->text);
    if (used + 1 < sizeof m->text)
        snprintf(m->text + used, sizeof m->text - used, "%sline %d: %s", used ? "; " : "", line, message);
}

/* Compiles the rules source in `path`.  Returns ERROR_SUCCESS and the rules,
 * or the YARA error code with the compiler's messages in `m`. */
static inline int guestfs_yara_compile_file(const char *path, YR_RULES **rules, struct guestfs_yara_messages *m) {
    YR_COMPILER *compiler = NULL;
    FILE *fp;
    int r;
    m->text[0] = 0;
    m->errors = 0;
    r = yr_compiler_create(&compiler);
    if (r != ERROR_SUCCESS) return r;
    yr_compiler_set_callback(compiler, guestfs_yara_compiler_message, m);
    fp = fopen(path, "r");
    if (fp == NULL) {
        yr_compiler_destroy(compiler);
        return ERROR_COULD_NOT_OPEN_FILE;
    }
    if (yr_compiler_add_file(compiler, fp, NULL, path) > 0) {
        fclose(fp);
        yr_compiler_destroy(compiler);
        return ERROR_SYNTAX_ERROR;
    }
    fclose(fp);
    r = yr_compiler_get_rules(compiler, rules);
    yr_compiler_destroy(compiler);
    return r;
}

/* A scan callback that hands the identifier of each matching rule to
 * `found(identifier, data)`; a non-zero return stops the scan. */
typedef int (*guestfs_yara_found_fn)(const char *identifier, void *data);
struct guestfs_yara_scan {
    guestfs_yara_found_fn found;
    void *data;
};

static inline int guestfs_yara_callback(YR_SCAN_CONTEXT *context, int message, void *message_data, void *user_data) {
    struct guestfs_yara_scan *s = user_data;
    (void) context;
    if (message == CALLBACK_MSG_RULE_MATCHING) {
        YR_RULE *rule = message_data;
        if (s->found(rule->identifier, s->data) != 0) return CALLBACK_ERROR;
    }
    return CALLBACK_CONTINUE;
}

static inline int guestfs_yara_scan_fd(YR_RULES *rules, int fd, guestfs_yara_found_fn found, void *data) {
    struct guestfs_yara_scan s = { found, data };
    return yr_rules_scan_fd(rules, fd, 0, guestfs_yara_callback, &s, 0);
}

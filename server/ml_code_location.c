/* server/ml_code_location.c - where a model file lives in its repository, from CI variables, for the
 * sourceCodeLocation job facet of publish-model's event.
 *
 * Sources, first complete one wins:
 *   GitHub Actions  GITHUB_SERVER_URL + GITHUB_REPOSITORY + GITHUB_SHA  (workspace: GITHUB_WORKSPACE)
 *   GitLab CI       CI_PROJECT_URL + CI_COMMIT_SHA                      (workspace: CI_PROJECT_DIR)
 *   anything else   GIT_URL + GIT_COMMIT (Jenkins' git plugin sets both; set them by hand elsewhere)
 * Invariants:
 *  1. Only the repository, the commit and the file's path are used: a branch, tag or pull-request
 *     number would make the same commit publish different events.
 *  2. The path is relative to the repository and never climbs out of it ("..": no path).
 * Ownership: arena. Threads: reads variables only through the caller's get function. */
#include "ml_model.h"

#include <stdio.h>
#include <string.h>

static const char *nonempty(const char *(*get)(const char *), const char *name)
{
    const char *v = get(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The file's path in the repository: relative to workspace when absolute, without "./"; NULL when
 * it cannot be told. */
static const char *repo_path(struct arena *a, const char *file, const char *workspace)
{
    if (file == NULL || file[0] == '\0')
        return NULL;
    if (file[0] == '/') {
        size_t n = workspace != NULL ? strlen(workspace) : 0;
        while (n > 0 && workspace[n - 1] == '/')
            n--;
        if (n == 0 || strncmp(file, workspace, n) != 0 || file[n] != '/')
            return NULL;
        file += n + 1;
    }
    while (strncmp(file, "./", 2) == 0)
        file += 2;
    while (file[0] == '/')
        file++;
    if (file[0] == '\0' || strcmp(file, "..") == 0 || strncmp(file, "../", 3) == 0 ||
        strstr(file, "/../") != NULL || (strlen(file) >= 3 && strcmp(file + strlen(file) - 3, "/..") == 0))
        return NULL;
    return arena_strdup(a, file);
}

/* path with every byte outside RFC 3986's unreserved set and '/' percent-encoded. */
static const char *url_path(struct arena *a, const char *path)
{
    static const char HEX[] = "0123456789ABCDEF";
    char *out = arena_alloc(a, strlen(path) * 3 + 1);
    char *o = out;

    for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p) != NULL) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = HEX[*p >> 4];
            *o++ = HEX[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

/* A web repository at base: url = base/<blob>/<sha>/<path>, or base/<tree>/<sha> without a path. */
static void web_repo(struct arena *a, const char *base, const char *blob, const char *tree, const char *sha,
                     const char *path, struct ml_code_location *out)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    out->type = "git";
    out->repo_url = arena_printf(a, "%.*s.git", (int)n, base);
    out->version = arena_strdup(a, sha);
    out->path = path;
    if (path != NULL)
        out->url = arena_printf(a, "%.*s/%s/%s/%s", (int)n, base, blob, sha, url_path(a, path));
    else
        out->url = arena_printf(a, "%.*s/%s/%s", (int)n, base, tree, sha);
}

void ml_code_location_from_env(struct arena *a, const char *(*get)(const char *name), const char *file,
                               struct ml_code_location *out)
{
    const char *server = nonempty(get, "GITHUB_SERVER_URL"), *repo = nonempty(get, "GITHUB_REPOSITORY");
    const char *sha = nonempty(get, "GITHUB_SHA");

    memset(out, 0, sizeof *out);
    if (server != NULL && repo != NULL && sha != NULL) {
        const char *base = arena_printf(a, "%s/%s", server, repo);
        web_repo(a, base, "blob", "tree", sha, repo_path(a, file, nonempty(get, "GITHUB_WORKSPACE")), out);
        return;
    }
    const char *project = nonempty(get, "CI_PROJECT_URL");
    sha = nonempty(get, "CI_COMMIT_SHA");
    if (project != NULL && sha != NULL) {
        web_repo(a, project, "-/blob", "-/tree", sha, repo_path(a, file, nonempty(get, "CI_PROJECT_DIR")),
                 out);
        return;
    }
    const char *url = nonempty(get, "GIT_URL");
    sha = nonempty(get, "GIT_COMMIT");
    if (url != NULL && sha != NULL) {
        out->type = "git";
        out->url = arena_strdup(a, url);
        out->repo_url = out->url;
        out->version = arena_strdup(a, sha);
        out->path = repo_path(a, file, NULL);
    }
}

// PID 1 of the test VM (kernel-vm.ts): loads the modules listed in /modules.order, makes
// the host's root (9p, read-only) writable under an overlay on tmpfs, chroots into it,
// runs the script named by `outpost.script=` on the console and powers off, printing
// the script's exit status as @@outpost-vm-exit-N@@.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void load(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || syscall(SYS_finit_module, fd, "", 0) != 0) perror(path);
  if (fd >= 0) close(fd);
}

static void must(int ok, const char* what) {
  if (!ok) perror(what);
}

int main(void) {
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mount("proc", "/proc", "proc", 0, NULL);
  FILE* order = fopen("/modules.order", "r");
  char line[512];
  while (order && fgets(line, sizeof line, order)) {
    line[strcspn(line, "\n")] = 0;
    if (*line) load(line);
  }
  char cmdline[4096] = {0};
  int c = open("/proc/cmdline", O_RDONLY);
  if (c >= 0) {
    ssize_t n = read(c, cmdline, sizeof cmdline - 1);
    (void)n;
    close(c);
  }
  char* script = strstr(cmdline, "outpost.script=");
  if (script) {
    script += strlen("outpost.script=");
    script[strcspn(script, " \n")] = 0;
  }
  mkdir("/lower", 0755);
  mkdir("/upper", 0755);
  mkdir("/newroot", 0755);
  must(mount("hostroot", "/lower", "9p", MS_RDONLY,
             "trans=virtio,version=9p2000.L,msize=512000,cache=loose") == 0,
       "mount 9p");
  mount("tmpfs", "/upper", "tmpfs", 0, "size=75%");
  mkdir("/upper/up", 0755);
  mkdir("/upper/work", 0755);
  must(mount("overlay", "/newroot", "overlay", 0,
             "lowerdir=/lower,upperdir=/upper/up,workdir=/upper/work") == 0,
       "mount overlay");
  must(chdir("/newroot") == 0 && chroot("/newroot") == 0 && chdir("/") == 0, "chroot");
  mount("proc", "/proc", "proc", 0, NULL);
  mount("sysfs", "/sys", "sysfs", 0, NULL);
  mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
  mkdir("/dev/shm", 01777);
  mount("tmpfs", "/dev/shm", "tmpfs", 0, NULL);
  mount("tmpfs", "/run", "tmpfs", 0, NULL);
  mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL);
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    int tty = open("/dev/ttyS0", O_RDWR);
    if (tty >= 0) {
      dup2(tty, 0);
      dup2(tty, 1);
      dup2(tty, 2);
    }
    execl("/bin/bash", "bash", script ? script : "-i", (char*)NULL);
    perror("exec");
    _exit(127);
  }
  int status = 0;
  while (waitpid(-1, &status, 0) != pid) {
  }
  printf("@@outpost-vm-exit-%d@@\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128);
  fflush(stdout);
  sync();
  reboot(RB_POWER_OFF);
  return 0;
}

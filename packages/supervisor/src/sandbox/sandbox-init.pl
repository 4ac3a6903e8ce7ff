# forgehand's fast init inside a bwrap sandbox: perl with no modules (perl-base; starts in a few ms, where a
# second node takes 40 ms idle and hundreds under load). Same contract as sandbox-init.mjs, but it `exec`s the
# agent instead of spawning it, so the agent is the process bwrap's reaper waits for and signals go to it directly.
#   [setpriv --reuid N --regid N --clear-groups --inh-caps=-all --] perl sandbox-init.pl --env-file F
#     [--uid N --gid N] [--proxy-port P --bridge NODE SCRIPT --proxy-socket S] -- COMMAND...
# 1. root runner: setpriv (before this script) has dropped to the agent uid/gid; this checks it did;
# 2. egress bridge: listens on 127.0.0.1:P itself, then forks `NODE SCRIPT FD S` with that listening socket, so a
#    connection made before the bridge's node is up waits in the backlog instead of being refused;
# 3. sets exactly the environment of F (NUL-separated NAME=VALUE; a file, never argv) and execs COMMAND.
my %o;
my @a = @ARGV;
sub fail { print STDERR "[forgehand-sandbox] $_[0]\n"; exit($_[1] // 126); }
while (@a && $a[0] ne '--') {
  my $k = shift @a;
  if ($k eq '--bridge') { $o{node} = shift @a; $o{script} = shift @a; next; }
  $o{$k} = shift @a;
}
shift @a;
fail("usage: sandbox-init.pl [options] -- COMMAND...") unless @a && defined $o{'--env-file'};
if (defined $o{'--uid'}) {
  my ($uid, $gid) = ($o{'--uid'}, $o{'--gid'} // $o{'--uid'});
  my @groups = split / /, $);
  if ($uid == 0 || $< != $uid || $> != $uid || ($( + 0) != $gid || $groups[0] != $gid || grep { $_ != $gid } @groups) {
    fail("still uid $> gid $) after switching to $uid: refusing to run the agent");
  }
}
open(my $f, '<', $o{'--env-file'}) or fail("cannot read the environment file $o{'--env-file'}: $!");
my $text = do { local $/; <$f> };
close $f;
if (defined $o{'--proxy-port'}) {
  my $port = $o{'--proxy-port'};
  # Not close-on-exec (fds above $^F are): the bridge inherits it; it is closed before the agent's exec.
  $^F = 1023;
  # AF_INET 2, SOCK_STREAM 1; SOL_SOCKET 1, SO_REUSEADDR 2 (Linux).
  socket(my $l, 2, 1, 0) or fail("cannot start the egress bridge: socket: $!");
  setsockopt($l, 1, 2, pack('l', 1));
  bind($l, pack('S n C4 x8', 2, $port, 127, 0, 0, 1)) or fail("cannot start the egress bridge on 127.0.0.1:$port: $!");
  listen($l, 128) or fail("cannot start the egress bridge: listen: $!");
  $^F = 2;
  my $pid = fork();
  fail("cannot start the egress bridge: fork: $!") unless defined $pid;
  if ($pid == 0) {
    %ENV = ();
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>', '/dev/null');
    exec { $o{node} } $o{node}, $o{script}, fileno($l), $o{'--proxy-socket'};
    fail("cannot start the egress bridge: $o{node}: $!");
  }
  close $l;
}
%ENV = ();
for (split /\0/, $text) {
  my ($k, $v) = split /=/, $_, 2;
  $ENV{$k} = $v if defined $v && $k ne '';
}
{ exec { $a[0] } @a; }
fail("cannot start $a[0]: $!", ($! + 0) == 2 ? 127 : 126);

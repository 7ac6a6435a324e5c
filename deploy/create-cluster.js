// Run once by the cluster-setup service of docker-compose.cluster.yml (mysqlsh --js).
const password = os.getenv("MYSQL_ROOT_PASSWORD");
const appPassword = os.getenv("SINPLUMA_DB_PASSWORD");
const hosts = ["mysql-1", "mysql-2", "mysql-3"];
for (const host of hosts) {
  dba.configureInstance(`root:${password}@${host}:3306`, {restart: false});
}
shell.connect(`root:${password}@mysql-1:3306`);
let cluster;
try {
  cluster = dba.getCluster("sinpluma");
} catch (error) {
  cluster = dba.createCluster("sinpluma");
  for (const host of hosts.slice(1)) {
    cluster.addInstance(`root:${password}@${host}:3306`, {recoveryMethod: "clone"});
  }
}
session.runSql("CREATE DATABASE IF NOT EXISTS sinpluma CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
session.runSql("CREATE USER IF NOT EXISTS 'sinpluma'@'%' IDENTIFIED BY ?", [appPassword]);
session.runSql("GRANT ALL ON sinpluma.* TO 'sinpluma'@'%'");
print(cluster.status());

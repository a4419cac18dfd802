import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import type { ProjectConfig } from './project-config.js'

export interface StateDir {
  /** Absolute folder for journals, checkpoints, run logs and audit history. */
  dir: string
  /** Why this folder: "RECOVER_HOME", "stateDir in /x/recover.config.json", "the default (~/.recover)". */
  source: string
}

/**
 * Where recover keeps the state it writes for people (seek journals, replay checkpoints,
 * runbook logs, audit history): RECOVER_HOME, else "stateDir" of recover.config.json (relative
 * to that file, so a team shares it with the config), else ~/.recover. Never the current
 * folder: an undo, a resume or an audit history must find what a run from another folder (a
 * cron job, a colleague's shell in the runbook's folder) wrote.
 */
export function recoverStateDir(project?: Pick<ProjectConfig, 'path' | 'defaults'>, env: NodeJS.ProcessEnv = process.env): StateDir {
  const fromEnv = env.RECOVER_HOME?.trim()
  if (fromEnv) return { dir: resolve(fromEnv), source: 'RECOVER_HOME' }
  const fromConfig = project?.defaults.stateDir
  if (fromConfig && project?.path) return { dir: resolve(dirname(project.path), fromConfig), source: `stateDir in ${project.path}` }
  return { dir: join(homedir(), '.recover'), source: 'the default (~/.recover)' }
}
